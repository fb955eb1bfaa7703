"""The menu bar.  Every entry is a QAction with a stable objectName, kept on the window
(``window.<name>_action``) so nothing ever has to find a menu by its label."""

from __future__ import annotations

from nnstudio.gui.qt import QtGui


def _action(window, menu, name, text, slot, key=None, tip=None, checkable=False) -> QtGui.QAction:
    a = QtGui.QAction(text, window)
    a.setObjectName(name)
    if key:
        a.setShortcut(QtGui.QKeySequence(key))
    if tip:
        a.setStatusTip(tip)
        a.setToolTip(tip)
    a.setCheckable(checkable)
    a.triggered.connect(slot)
    menu.addAction(a)
    return a


def build_menus(window) -> None:
    w = window
    s = w.session
    mb = w.menuBar()
    files = w.files

    f = mb.addMenu("&File")
    w.open_action = _action(w, f, "openModelAction", "&Open model…", files.open_dialog,
                            QtGui.QKeySequence.StandardKey.Open, "Open a saved network (.npz)")
    w.open_pretrained_action = _action(w, f, "openPretrainedAction", "Open &pretrained network",
                                       lambda: s.open_shipped(), None,
                                       "Open the 784-16-16-10 network shipped with nnstudio (96 % on MNIST test)")
    w.reopen_action = _action(w, f, "reopenModelAction", "&Reopen last model", files.reopen_last)
    w.save_action = _action(w, f, "saveModelAction", "&Save model…", files.save_dialog,
                            QtGui.QKeySequence.StandardKey.Save, "Save the network as it is now (.npz)")
    f.addSeparator()
    runs = w.runs
    w.open_run_action = _action(w, f, "openRunAction", "Open &run…", runs.open_dialog, None,
                                "Open a saved run: its timeline, its history, its network at its last step")
    w.save_run_action = _action(w, f, "saveRunAction", "Save r&un…", runs.save_dialog, None,
                                "Save the whole run (every mini-batch can be shown again, continued or replayed)")
    w.export_replay_action = _action(w, f, "exportReplayAction", "Export replay as &GIF…", runs.export_dialog, None,
                                     "The run as an animated GIF: the diagram beside the cost curve, with a step counter")
    f.addSeparator()
    w.export_png_action = _action(w, f, "exportPlotsAction", "Export plots as &PNG…", files.export_png_dialog)
    w.export_csv_action = _action(w, f, "exportHistoryAction", "Export history as &CSV…", files.export_csv_dialog)
    f.addSeparator()
    _action(w, f, "quitAction", "&Quit", w.request_quit, QtGui.QKeySequence.StandardKey.Quit)

    t = mb.addMenu("&Training")
    a = w.actions
    for act in (a.play, a.step_batch, a.step_epoch):
        t.addAction(act)
    t.addSeparator()
    t.addAction(a.rewind)
    t.addAction(a.reset)
    w.undo_action = _action(w, t, "undoNetworkAction", "&Undo the last change to the weights", lambda: s.undo(),
                            "Ctrl+Alt+Z", "Put back the weights from before the last explorer step")
    w.undo_action.setEnabled(False)
    t.addSeparator()
    w.live_action = _action(w, t, "backToLiveAction", "Back to &live", lambda: s.timeline.go_live(), "L",
                            "Show the live run again after dragging the timeline into the past")
    w.continue_action = _action(w, t, "continueFromHereAction", "&Continue from here…", runs.continue_dialog, None,
                                "A new run from the step of the past on screen, with the same or new settings")
    w.compare_action = _action(w, t, "compareRunsAction", "&Compare runs…", w.open_compare, "Ctrl+Shift+C",
                               "Train runs side by side from the same start, each with one setting changed "
                               "(a separate experiment: the studio's network is not changed)")
    t.addSeparator()
    t.addAction(a.watch)
    t.addAction(a.full_speed)
    t.addAction(a.faster)
    t.addAction(a.slower)
    for d in w.docks:  # shortcuts also work while a floating dock has the focus
        d.addActions(a.all())

    v = mb.addMenu("&View")
    for d in w.docks:
        toggle = d.toggleViewAction()
        toggle.setObjectName(f"{d.objectName()}Toggle")
        v.addAction(toggle)
    v.addSeparator()
    w.epochs_axis_action = _action(w, v, "plotEpochsAxisAction", "Plot against &epochs",
                                   lambda on: w.plots.set_x_mode("epochs" if on else "examples"), checkable=True)
    w.plots.x_toggle.toggled.connect(w.epochs_axis_action.setChecked)
    _action(w, v, "resetPlotViewAction", "Reset plot &view", w.plots.reset_view, "Ctrl+0",
            "Fit the plots to their data again")
    v.addSeparator()
    w.light_action = _action(w, v, "lightThemeAction", "&Light theme", w.set_light_theme, checkable=True)
    _action(w, v, "resetLayoutAction", "Reset &layout", w.reset_layout, None,
            "Put the docks back where they start (nothing else changes)")

    h = mb.addMenu("&Help")
    if w.lessons_dock is not None:
        w.lessons_action = _action(w, h, "lessonsAction", "&Lessons", w.open_lessons, "F1",
                                   "Learn how the network works, step by step")
        w.lessons_dock.addActions(a.all())
    _action(w, h, "aboutAction", "&About nnstudio", w.about)
