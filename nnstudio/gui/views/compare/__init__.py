"""Compare runs: the window of a comparison (a separate experiment: nnstudio.session.compare)."""

from nnstudio.gui.views.compare.plots import ComparePlots
from nnstudio.gui.views.compare.window import CompareWindow, RunPanel, open_compare_window

__all__ = ["ComparePlots", "CompareWindow", "RunPanel", "open_compare_window"]
