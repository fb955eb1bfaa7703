"""What a lesson step points at: an example, a neuron, a weight or bias (Qt-free).

The front matter's ``example:``, ``neuron:`` and ``parameter:`` values (see
:mod:`nnstudio.lessons.parser`) become an :class:`ExampleSpec`, a :class:`NeuronSpec` and a
:class:`ParamSpec`.  The last two resolve against a network (the live numbers use them, see
:mod:`nnstudio.lessons.live`); an ExampleSpec resolves against a dataset
(:func:`nnstudio.lessons.live.resolve_example`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnstudio.components.explain import ParamRef
from nnstudio.core.network import Network, as_inputs

__all__ = ["PICKS", "ExampleSpec", "NeuronSpec", "ParamSpec"]

#: how an example can be picked by label
PICKS = ("first", "misread", "hardest")


@dataclass(frozen=True)
class ExampleSpec:
    """Which input a step shows.

    ``test 3`` / ``train 17``: that dataset example becomes the current input;
    ``train label 2 [first|misread|hardest]``: the first example of that class (or the first
    the network reads wrongly, or the one it finds hardest: highest cost);
    ``pad test 3``: put that test image on the drawing pad (the pad's reading becomes the input);
    ``pad clear``: clear the pad; ``keep``: leave the input as it is.
    """

    target: str = "keep"  # "keep" | "window" | "pad"
    split: str = "test"
    index: int | None = None
    label: int | None = None
    pick: str = "first"
    clear: bool = False

    @property
    def keeps(self) -> bool:
        return self.target == "keep"

    @classmethod
    def parse(cls, text: str) -> "ExampleSpec":
        words = text.split()
        if words == ["keep"]:
            return cls()
        target = "window"
        if words and words[0] == "pad":
            target, words = "pad", words[1:]
            if words == ["clear"]:
                return cls("pad", clear=True)
        if len(words) < 2 or words[0] not in ("train", "test"):
            raise ValueError("write 'test 3', 'train 17', 'train label 2 [first|misread|hardest]', "
                             "'pad test 3', 'pad clear' or 'keep'")
        split = words[0]
        if target == "pad" and split != "test":
            raise ValueError("the drawing pad takes test images only ('pad test 3')")
        if words[1] == "label":
            if target == "pad":
                raise ValueError("the drawing pad takes a test image by index ('pad test 3')")
            if len(words) not in (3, 4):
                raise ValueError("write 'train label 2' or 'train label 2 misread'")
            label = _int(words[2], "label", lo=0)
            pick = words[3] if len(words) == 4 else "first"
            if pick not in PICKS:
                raise ValueError(f"pick one of {', '.join(PICKS)}, not {pick!r}")
            return cls(target, split, None, label, pick)
        if len(words) != 2:
            raise ValueError(f"write '{split} <index>'")
        return cls(target, split, _int(words[1], "index", lo=0))


@dataclass(frozen=True)
class NeuronSpec:
    """A neuron to highlight: ``1 brightest`` (the brightest of layer 1 for this example) or ``1 5``."""

    layer: int
    index: int | None  # None: the brightest for the current example

    @classmethod
    def parse(cls, text: str) -> "NeuronSpec":
        words = text.split()
        if len(words) != 2:
            raise ValueError("write '<layer> <index>' or '<layer> brightest', e.g. '1 brightest'")
        layer = _int(words[0], "layer", lo=1)
        return cls(layer, None if words[1] == "brightest" else _int(words[1], "neuron", lo=0))

    def resolve(self, net: Network, pixels) -> tuple[int, int]:
        L = len(net.sizes) - 1
        if self.layer > L:
            raise ValueError(f"this network has no layer {self.layer}")
        if self.index is not None:
            if self.index >= net.sizes[self.layer]:
                raise ValueError(f"layer {self.layer} has no neuron {self.index}")
            return self.layer, self.index
        if pixels is None:
            return self.layer, 0
        a = net.forward(as_inputs(pixels)).activations[self.layer][0]
        return self.layer, int(np.argmax(a))


@dataclass(frozen=True)
class ParamSpec:
    """A weight or bias: ``weight <into layer|last> <neuron|label> <from neuron|brightest>`` or
    ``bias <into layer|last> <neuron|label>``.  Layers count neurons (1 = the first hidden layer);
    ``label`` is the example's desired digit; ``brightest`` the brightest neuron feeding it."""

    kind: str  # "weight" | "bias"
    layer: int | None  # the neuron layer the parameter feeds; None = the last
    row: int | None  # None = the label
    col: int | None = None  # weights only; None = the brightest

    @classmethod
    def parse(cls, text: str) -> "ParamSpec":
        words = text.split()
        if not words or words[0] not in ("weight", "bias"):
            raise ValueError("write 'weight last label brightest' or 'bias last label'")
        n = 4 if words[0] == "weight" else 3
        if len(words) != n:
            raise ValueError("write 'weight <layer|last> <neuron|label> <neuron|brightest>' or "
                             "'bias <layer|last> <neuron|label>'")
        layer = None if words[1] == "last" else _int(words[1], "layer", lo=1)
        row = None if words[2] == "label" else _int(words[2], "neuron", lo=0)
        col = None
        if n == 4:
            col = None if words[3] == "brightest" else _int(words[3], "neuron", lo=0)
        return cls(words[0], layer, row, col)

    def resolve(self, net: Network, pixels, label: int | None) -> ParamRef:
        L = len(net.sizes) - 1
        layer = L if self.layer is None else self.layer
        if layer > L:
            raise ValueError(f"this network has no layer {layer}")
        row = self.row
        if row is None:
            row = 0 if label is None else int(label)
        col = None
        if self.kind == "weight":
            col = self.col
            if col is None:
                col = 0
                if pixels is not None:
                    col = int(np.argmax(net.forward(as_inputs(pixels)).activations[layer - 1][0]))
        return ParamRef(layer - 1, row, col).check(net.sizes)


def _int(text: str, what: str, lo: int | None = None) -> int:
    try:
        v = int(text)
    except ValueError:
        raise ValueError(f"{what} must be a whole number, not {text!r}") from None
    if lo is not None and v < lo:
        raise ValueError(f"{what} must be at least {lo}")
    return v
