"""The engine: NumPy only, no Qt anywhere below this package."""

from .activations import ACTIVATIONS, Activation, get_activation
from .costs import COSTS, Cost, get_cost
from .gradcheck import GradientCheck, gradient_check, numerical_gradient
from .modelfile import FORMAT, FORMAT_VERSION, ModelFileError, load_model, save_model
from .network import DEFAULT_SIZES, INITS, BackpropDetails, ForwardPass, Network, as_inputs, as_targets
from .trainer import BatchReport, DivergedError, EpochReport, Trainer

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation", "COSTS", "Cost", "get_cost",
    "GradientCheck", "gradient_check", "numerical_gradient",
    "FORMAT", "FORMAT_VERSION", "ModelFileError", "load_model", "save_model",
    "DEFAULT_SIZES", "INITS", "BackpropDetails", "ForwardPass", "Network", "as_inputs", "as_targets",
    "BatchReport", "DivergedError", "EpochReport", "Trainer",
]
