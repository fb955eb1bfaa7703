"""Find what a person would see as broken layout: a control cut off by its window or its parent, two
controls on top of each other, a button narrower than its text, text smaller than 9 pt.

``problems(window)`` walks the widget tree of every visible top-level part of the studio and returns
one line per problem.  A widget inside a scroll area is judged against the scroll area's content (the
user can scroll to it), not against the viewport.
"""

from __future__ import annotations

from nnstudio.gui.qt import QtCore, QtGui, QtWidgets

#: the controls a person reads or operates
CONTROLS = (QtWidgets.QAbstractButton, QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox, QtWidgets.QLineEdit,
            QtWidgets.QSlider, QtWidgets.QLabel, QtWidgets.QProgressBar, QtWidgets.QTabBar)
MIN_POINT_SIZE = 9.0
SLACK = 1  # px of rounding


def _name(w) -> str:
    n = w.objectName() or type(w).__name__
    text = ""
    if isinstance(w, (QtWidgets.QAbstractButton, QtWidgets.QLabel)):
        text = w.text()[:30].replace("\n", " ")
    parent = w.parentWidget()
    path = []
    while parent is not None and len(path) < 3:
        path.append(parent.objectName() or type(parent).__name__)
        parent = parent.parentWidget()
    return f"{n}{f' «{text}»' if text else ''} in {'/'.join(reversed(path))}"


def _shown(w) -> bool:
    if not (w.isVisible() and w.width() > 0 and w.height() > 0):
        return False
    p = w  # a dock behind another dock's tab says it is visible: it is not on screen
    while p is not None and not isinstance(p, QtWidgets.QDockWidget):
        p = p.parentWidget()
    return p is None or p.isFloating() or not p.visibleRegion().isEmpty()


def _rect_in(w, ancestor) -> QtCore.QRect:
    return QtCore.QRect(w.mapTo(ancestor, QtCore.QPoint(0, 0)), w.size())


def _clipper(w):
    """The nearest ancestor that clips ``w``: the window, a dock, a tab page, a frame, or the content
    of a scroll area (which clips only in a direction the area cannot scroll)."""
    p = w.parentWidget()
    while p is not None:
        area = p.parentWidget().parentWidget() if p.parentWidget() is not None else None
        if isinstance(area, QtWidgets.QAbstractScrollArea) and p.parentWidget() is area.viewport():
            return ("scroll", area, p)
        if p.isWindow() or (isinstance(p, (QtWidgets.QDockWidget, QtWidgets.QTabWidget, QtWidgets.QGroupBox,
                                            QtWidgets.QFrame)) and not isinstance(p, QtWidgets.QLabel)):
            return ("box", p, None)
        p = p.parentWidget()
    return None


def _cut_off(w, top) -> str | None:
    c = _clipper(w)
    if c is None:
        return None
    kind, box, content = c
    r = _rect_in(w, top)
    if kind == "box":
        cr = _rect_in(box, top) if box is not top else top.rect()
        if not cr.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(r):
            return f"cut off by {box.objectName() or type(box).__name__}"
        return None
    # in a scroll area: reachable where the area scrolls; cut off where it cannot
    content_r = _rect_in(content, top)
    if not content_r.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(r):
        return f"outside the scrollable content of {box.objectName() or type(box).__name__}"
    view_r = _rect_in(box.viewport(), top)
    Off = QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    if box.horizontalScrollBarPolicy() == Off and (r.left() < view_r.left() - SLACK or r.right() > view_r.right() + SLACK):
        return f"cut off (no horizontal scrolling) by {box.objectName() or type(box).__name__}"
    if box.verticalScrollBarPolicy() == Off and (r.top() < view_r.top() - SLACK or r.bottom() > view_r.bottom() + SLACK):
        return f"cut off (no vertical scrolling) by {box.objectName() or type(box).__name__}"
    return None


def _has_text(w) -> bool:
    if isinstance(w, (QtWidgets.QLabel, QtWidgets.QAbstractButton)):
        return bool(w.text().strip())
    return True


def problems(window) -> list[str]:
    out: list[str] = []
    tops = [window] + [d for d in window.findChildren(QtWidgets.QDockWidget) if d.isFloating() and _shown(d)]
    compare = getattr(window, "compare_window", None)  # (Training ▸ Compare runs: a window of its own)
    if compare is not None and compare.isVisible():
        tops.append(compare)
        if compare.width() > window.width() or compare.height() > window.height():  # (opened as large as the studio)
            out.append(f"the Compare window ({compare.width()}×{compare.height()}) is larger than the screen "
                       f"({window.width()}×{window.height()})")
    for top in tops:
        if not _shown(top):
            continue
        for w in top.findChildren(QtWidgets.QWidget):
            if not _shown(w) or not isinstance(w, CONTROLS) or w.window() is not top:
                continue
            if isinstance(w, QtWidgets.QLabel) and not _has_text(w) and w.pixmap().isNull():
                continue
            if w.objectName().startswith("qt_") or isinstance(w.parentWidget(), QtWidgets.QTabBar):
                continue  # (Qt's own parts, e.g. a tab bar's scroll arrows)
            r = _rect_in(w, top)
            # inside its window (a control in scrollable content is reachable by scrolling)
            cut = _cut_off(w, top)
            if cut:
                out.append(f"{cut}: {_name(w)} at {r.x()},{r.y()} {r.width()}×{r.height()}")
            # a button or a choice narrower than what it must show
            if isinstance(w, QtWidgets.QComboBox) or (isinstance(w, QtWidgets.QAbstractButton)
                                                      and not isinstance(w, QtWidgets.QCheckBox)):
                need = w.minimumSizeHint()
                need_w = need.width()
                if isinstance(w, QtWidgets.QAbstractButton):  # its text (and icon) must fit, no more
                    fm = w.fontMetrics()
                    text_w = max((fm.horizontalAdvance(line) for line in w.text().replace("&", "").split("\n")),
                                 default=0)
                    icon_w = w.iconSize().width() + 4 if not w.icon().isNull() else 0
                    beside = not isinstance(w, QtWidgets.QToolButton) or w.toolButtonStyle() in (
                        QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon, QtCore.Qt.ToolButtonStyle.ToolButtonIconOnly)
                    need_w = (text_w + icon_w if beside else max(text_w, icon_w)) + 8
                if w.width() + SLACK < need_w or w.height() + SLACK < min(need.height(), 20):
                    out.append(f"squashed: {_name(w)} {w.width()}×{w.height()} < {need_w}×{need.height()}")
            # text that can be read
            if _has_text(w):
                f = w.font()
                pt = f.pointSizeF() if f.pointSizeF() > 0 else f.pixelSize() * 72.0 / max(1.0, w.logicalDpiY())
                if pt + 0.05 < MIN_POINT_SIZE:
                    out.append(f"small text ({pt:.1f} pt): {_name(w)}")
        # siblings on top of each other
        for parent in [top] + top.findChildren(QtWidgets.QWidget):
            if not _shown(parent) or parent.window() is not top or isinstance(parent, QtWidgets.QStackedWidget):
                continue
            kids = [c for c in parent.children() if isinstance(c, CONTROLS) and _shown(c)
                    and not c.objectName().startswith("qt_") and _has_text(c)]
            for i, a in enumerate(kids):
                ra = a.geometry()
                for b in kids[i + 1:]:
                    inter = ra.intersected(b.geometry())
                    if inter.width() > 2 and inter.height() > 2:
                        out.append(f"overlap: {_name(a)} and {_name(b)}")
    return out


def every_view_shown(window, qtbot):
    """Raise every dock and every tab in turn, yielding a description of what is on screen."""
    w = window
    yield "default"
    for dock in (w.draw_dock, w.backprop_dock, w.gradient_dock, w.evaluation_dock, w.observations_dock):
        dock.show()
        dock.raise_()
        qtbot.wait(30)
        yield dock.objectName()
        for tabs in dock.findChildren(QtWidgets.QTabWidget):
            if not tabs.isVisible():
                continue
            for i in range(tabs.count()):
                tabs.setCurrentIndex(i)
                qtbot.wait(30)
                yield f"{dock.objectName()} / {tabs.tabText(i)}"
            tabs.setCurrentIndex(0)
    if hasattr(w, "open_compare"):  # the Compare window, as large as the studio's, with its first runs
        win = w.open_compare()
        qtbot.waitUntil(lambda: len(win.panels) >= 2, timeout=30000)
        qtbot.wait(50)
        yield "compareWindow"
        win.close()
        qtbot.wait(30)
    if w.lessons_dock is not None:
        w.open_lessons()
        qtbot.wait(30)
        yield "lessonsDock"
