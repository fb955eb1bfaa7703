"""Draw a digit and watch the network read it: the pad, its readouts and the panel around them."""

from nnstudio.gui.views.pad.canvas import CANVAS_SIZE, DrawingPad
from nnstudio.gui.views.pad.readouts import GuessView, Prediction, PreviewImage
from nnstudio.gui.views.pad.view import SOURCE, DrawPanel
from nnstudio.gui.widgets.output_bars import OutputBars

__all__ = ["CANVAS_SIZE", "SOURCE", "DrawPanel", "DrawingPad", "GuessView", "OutputBars", "Prediction", "PreviewImage"]
