""""What did it learn?": the evaluation view, its five pages and their painted widgets."""

from nnstudio.gui.views.evaluation.view import EvaluationView

__all__ = ["EvaluationView"]
