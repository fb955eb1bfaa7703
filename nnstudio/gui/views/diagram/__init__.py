"""The network diagram family: the live diagram, the neuron inspector and the weights gallery."""

from nnstudio.gui.views.diagram.canvas import DiagramCanvas
from nnstudio.gui.views.diagram.inspector import InspectorDialog, NeuronInspector
from nnstudio.gui.views.diagram.view import DiagramView
from nnstudio.gui.views.diagram.weights_gallery import WeightsGalleryView

__all__ = ["DiagramCanvas", "DiagramView", "InspectorDialog", "NeuronInspector", "WeightsGalleryView"]
