"""The views the window hosts, and the docks around the diagram: built, laid out, reset.

Resetting the layout only moves docks: it never changes the session (no lesson runs, no network
is replaced).
"""

from __future__ import annotations

import importlib
import logging
import traceback

from nnstudio.gui.qt import QtWidgets, Qt
from nnstudio.gui.style import theme

log = logging.getLogger(__name__)

#: (key, module, class, slot title) of the hosted views, imported lazily (a view that cannot be
#: imported or created leaves a labelled placeholder: the studio opens without it)
VIEW_SPECS = (
    ("diagram", "nnstudio.gui.views.diagram", "DiagramView", "Network"),
    ("draw", "nnstudio.gui.views.pad", "DrawPanel", "Draw"),
    ("backprop", "nnstudio.gui.views.backprop", "BackpropView", "Backprop"),
    ("playground", "nnstudio.gui.views.descent.playground", "PlaygroundView", "Playground"),
    ("landscape", "nnstudio.gui.views.descent.landscape", "LandscapeView", "Cost landscape"),
    ("evaluation", "nnstudio.gui.views.evaluation", "EvaluationView", "Evaluation"),
)
#: the lessons column's width when it opens
LESSONS_WIDTH = 420


class Placeholder(QtWidgets.QFrame):
    """Stands in for a view whose module is not available."""

    def __init__(self, title: str, reason: str, parent=None):
        super().__init__(parent)
        self.setObjectName("placeholder")
        self.setMinimumSize(160, 100)
        lay = QtWidgets.QVBoxLayout(self)
        lab = QtWidgets.QLabel(f"<b>{title}</b><br><span style='color:{theme.MUTED}'>{reason}</span>")
        lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lab.setWordWrap(True)
        lay.addWidget(lab)


def build_views(load_views: bool, factories: dict) -> dict:
    """The hosted views by key (real ones, or placeholders)."""
    views = {}
    for key, module, cls, title in VIEW_SPECS:
        if key in factories:
            f = factories[key]
            widget = f() if f is not None else Placeholder(title, "not loaded")
        elif not load_views:
            widget = Placeholder(title, "not loaded")
        else:
            widget = _create(module, cls, title)
        if not widget.objectName():
            widget.setObjectName(f"{key}View")
        views[key] = widget
    return views


def _create(module: str, cls: str, title: str):
    try:
        klass = getattr(importlib.import_module(module), cls)
    except ImportError as e:
        return Placeholder(title, f"this view is not part of this build ({e.name or e})")
    except Exception as e:  # a broken view must not keep the studio from opening
        log.error("importing %s failed:\n%s", module, traceback.format_exc())
        return Placeholder(title, f"could not be loaded: {type(e).__name__}: {e}")
    try:
        return klass()
    except Exception as e:
        log.error("creating %s failed:\n%s", cls, traceback.format_exc())
        return Placeholder(title, f"could not be created: {type(e).__name__}: {e}")


def _host(widget, name: str) -> QtWidgets.QScrollArea:
    """Wrap a hosted view so its minimum size can never force the window off-screen (a dock
    smaller than the view scrolls instead)."""
    area = QtWidgets.QScrollArea()
    area.setObjectName(name)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


def _dock(window, name: str, title: str, widget, area) -> QtWidgets.QDockWidget:
    d = QtWidgets.QDockWidget(title, window)
    d.setObjectName(name)
    d.setWidget(widget)
    d.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                  | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
                  | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable)
    window.addDockWidget(area, d)
    return d


def _plots_host(window) -> QtWidgets.QWidget:
    """The plots with the timeline's scrubber under them (one dock)."""
    host = QtWidgets.QWidget()
    host.setObjectName("plotsHost")
    lay = QtWidgets.QVBoxLayout(host)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    lay.addWidget(window.plots, 1)
    lay.addWidget(window.timeline_bar)
    return host


def build_docks(window) -> None:
    """The default layout: controls (and the lessons, when opened) on the left, live plots on the
    right of the diagram, and the views a learner works with one at a time tabbed along the
    bottom (Draw first).  Sets ``window.<name>_dock`` and ``window.docks``."""
    L, R, B = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
               Qt.DockWidgetArea.BottomDockWidgetArea)
    w = window
    w.setCorner(Qt.Corner.TopLeftCorner, L)
    w.setCorner(Qt.Corner.BottomLeftCorner, L)
    w.setCorner(Qt.Corner.TopRightCorner, R)
    w.setCorner(Qt.Corner.BottomRightCorner, B)
    w.setCentralWidget(w.views["diagram"])
    scroll = QtWidgets.QScrollArea()
    scroll.setObjectName("trainingScroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(w.controls)
    scroll.setMinimumWidth(w.controls.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
    w.training_dock = _dock(w, "trainingDock", "Training", scroll, L)
    w.plots_dock = _dock(w, "plotsDock", "Plots", _plots_host(w), R)
    w.draw_dock = _dock(w, "drawDock", "Draw", _host(w.views["draw"], "drawScroll"), B)
    w.backprop_dock = _dock(w, "backpropDock", "Backprop", _host(w.views["backprop"], "backpropScroll"), B)
    tabs = QtWidgets.QTabWidget()
    tabs.setObjectName("gradientTabs")
    tabs.setDocumentMode(True)
    tabs.addTab(_host(w.views["playground"], "playgroundScroll"), "Playground")
    tabs.addTab(_host(w.views["landscape"], "landscapeScroll"), "Cost landscape")
    w.gradient_tabs = tabs
    w.gradient_dock = _dock(w, "gradientDock", "Gradient descent", tabs, B)
    w.evaluation_dock = _dock(w, "evaluationDock", "Evaluation", _host(w.views["evaluation"], "evaluationScroll"), B)
    # what the run shows, in words (nnstudio.gui.views.observations): beside the views along the bottom
    w.observations_dock = _dock(w, "observationsDock", "Observations", w.observations, B)
    w.splitDockWidget(w.draw_dock, w.observations_dock, Qt.Orientation.Horizontal)
    w.tabifyDockWidget(w.draw_dock, w.backprop_dock)
    w.tabifyDockWidget(w.backprop_dock, w.gradient_dock)
    w.tabifyDockWidget(w.gradient_dock, w.evaluation_dock)
    w.draw_dock.raise_()
    w.docks = [w.training_dock, w.plots_dock, w.observations_dock, w.draw_dock, w.backprop_dock, w.gradient_dock,
               w.evaluation_dock]
    if w.lessons_view is not None:
        d = w.lessons_dock = _dock(w, "lessonsDock", "Lessons", w.lessons_view, L)
        w.splitDockWidget(d, w.training_dock, Qt.Orientation.Vertical)  # the lesson on top, the controls below
        d.hide()  # until Help ▸ Lessons
        w.docks.append(d)


#: narrower than this, the default layout tabs the Plots with the views along the bottom (the diagram
#: keeps the middle's width); wider, the plots stand on the right
NARROW_WIDTH = 1400
#: the largest size the window opens at (it opens smaller on a smaller screen)
DEFAULT_SIZE = (1600, 1000)


def fit_to_screen(window) -> None:
    """Open within the screen's available area (a 1280×720 laptop gets a window that fits)."""
    from nnstudio.gui.qt import QtGui

    screen = window.screen() or QtGui.QGuiApplication.primaryScreen()
    if screen is None:  # pragma: no cover - no screen at all
        window.resize(*DEFAULT_SIZE)
        return
    avail = screen.availableGeometry()
    # the window manager's frame is not known before the window is first shown: leave room for a
    # title bar (32 px) and whatever frame there already is
    frame = window.frameGeometry().size() - window.geometry().size()
    fw, fh = max(0, frame.width()), max(32, frame.height())
    w = min(DEFAULT_SIZE[0], avail.width() - fw)
    h = min(DEFAULT_SIZE[1], avail.height() - fh)
    arrange_for_width(window, w)  # (first: the arrangement decides how narrow the window may be)
    window.setMinimumSize(0, 0)  # (the layout's minimum of the arrangement it had is not ours)
    window.resize(max(640, w), max(480, h))
    if not avail.contains(window.frameGeometry()):
        window.move(avail.topLeft())


def apply_default_layout(window, sizes: bool = True) -> None:
    """The default arrangement for the window's size: on a narrow window the Plots join the tab
    group along the bottom (after Draw), on a wide one they stand on the right.  ``sizes``: also
    give the docks their default sizes (once the window is shown)."""
    arrange_for_width(window, window.width())
    window.draw_dock.raise_()
    if sizes:
        apply_default_sizes(window)


def arrange_for_width(window, width: int) -> None:
    w = window
    B, R = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    obs = w.observations_dock
    for d in (w.plots_dock, obs):
        if d.isFloating():
            d.setFloating(False)
    if width < NARROW_WIDTH:
        if w.dockWidgetArea(w.plots_dock) != B or w.plots_dock not in w.tabifiedDockWidgets(w.draw_dock):
            w.addDockWidget(B, w.plots_dock)
            w.tabifyDockWidget(w.draw_dock, w.plots_dock)
        if w.dockWidgetArea(obs) != B or obs not in w.tabifiedDockWidgets(w.plots_dock):
            w.addDockWidget(B, obs)
            w.tabifyDockWidget(w.plots_dock, obs)
    else:
        if w.dockWidgetArea(w.plots_dock) != R:
            w.addDockWidget(R, w.plots_dock)
        if w.dockWidgetArea(obs) != B or w.tabifiedDockWidgets(obs):  # (beside the bottom tab group, not in it)
            w.addDockWidget(B, obs, Qt.Orientation.Horizontal)


def apply_default_sizes(window) -> None:
    """Dock sizes of the default layout, relative to the window's size."""
    w = window
    width, height = w.width(), w.height()
    H, V = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
    w.resizeDocks([w.training_dock], [w.training_dock.minimumSizeHint().width()], H)
    if w.dockWidgetArea(w.plots_dock) == Qt.DockWidgetArea.RightDockWidgetArea:
        w.resizeDocks([w.plots_dock], [int(width * 0.26)], H)
    # a short window gives the bottom views a little more of its height (the diagram scales down)
    share = 0.40 if height >= 900 else 0.46
    w.resizeDocks([w.draw_dock], [int(height * share)], V)
    if not w.tabifiedDockWidgets(w.observations_dock):  # (beside the bottom views: a column of cards)
        w.resizeDocks([w.observations_dock], [int(width * 0.22)], H)


def reset_layout(window, default_state: bytes, version: int) -> None:
    """Back to the default layout.  Only docks move: the lessons dock is shown again only if it
    was open (opening it never sets a lesson up by itself anyway)."""
    w = window
    lessons_open = w.lessons_dock is not None and w.lessons_dock.isVisible()
    w.restoreState(default_state, version)
    for d in w.docks:
        d.setFloating(False)
        if d is not w.lessons_dock:
            d.show()
    if w.lessons_dock is not None:
        w.lessons_dock.setVisible(lessons_open)
    apply_default_layout(w)


def open_lessons(window) -> None:
    """Show the lessons dock with room to read (the left column widened, the controls kept short).
    Showing it changes nothing else: a step is set up only when the learner asks."""
    w = window
    dock = w.lessons_dock
    if dock is None:
        return
    first = not dock.isVisible()
    dock.show()
    dock.raise_()
    if first and not dock.isFloating():
        w.resizeDocks([dock], [max(LESSONS_WIDTH, dock.width())], Qt.Orientation.Horizontal)
        t = w.training_dock
        if t.isVisible() and not t.isFloating():
            h = w.height()
            w.resizeDocks([dock, t], [int(h * 0.66), int(h * 0.34)], Qt.Orientation.Vertical)


def show_widget(window, widget) -> None:
    """Make ``widget`` visible in ``window``: show and raise its docks, select the tabs that hold it."""
    child, parent = widget, widget.parentWidget()
    found = []
    while parent is not None and parent is not window:
        if isinstance(parent, QtWidgets.QDockWidget):
            found.append(parent)
        if isinstance(parent, QtWidgets.QStackedWidget) and isinstance(parent.parentWidget(), QtWidgets.QTabWidget):
            parent.parentWidget().setCurrentWidget(child)
        child, parent = parent, parent.parentWidget()
    for d in found:
        if not d.isVisible():
            d.show()
        d.raise_()


def dock_of(widget):
    """The dock that holds ``widget`` (None for the central diagram)."""
    while widget is not None and not isinstance(widget, QtWidgets.QDockWidget):
        widget = widget.parentWidget()
    return widget
