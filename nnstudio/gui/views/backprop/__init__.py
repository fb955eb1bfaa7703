"""The Backprop explorer: backpropagation made visible, one module per tab of the video's two chapters."""

from nnstudio.gui.views.backprop._common import MIN_REFRESH_MS, TABS
from nnstudio.gui.views.backprop.view import BackpropView

__all__ = ["MIN_REFRESH_MS", "TABS", "BackpropView"]
