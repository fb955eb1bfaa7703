"""The specs of the front matter: which example, neuron and parameter a step points at (Qt-free)."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.components.explain import ParamRef
from nnstudio.lessons.specs import ExampleSpec, NeuronSpec, ParamSpec


@pytest.mark.parametrize("text, spec", [
    ("keep", ExampleSpec()),
    ("test 3", ExampleSpec("window", "test", 3)),
    ("train 17", ExampleSpec("window", "train", 17)),
    ("train label 2", ExampleSpec("window", "train", None, 2, "first")),
    ("test label 9 hardest", ExampleSpec("window", "test", None, 9, "hardest")),
    ("pad test 3", ExampleSpec("pad", "test", 3)),
    ("pad clear", ExampleSpec("pad", clear=True)),
])
def test_example_specs(text, spec):
    assert ExampleSpec.parse(text) == spec


@pytest.mark.parametrize("text", ["", "valid 3", "test", "test -1", "train label", "train label 2 best",
                                  "pad test label 2", "test 1 2"])
def test_bad_example_specs(text):
    with pytest.raises(ValueError):
        ExampleSpec.parse(text)


def test_neuron_and_parameter_specs(net, ds):
    x = ds.test_x[1] / 255.0
    a1 = net.forward(x[None]).activations[1][0]
    assert NeuronSpec.parse("1 brightest").resolve(net, x) == (1, int(np.argmax(a1)))
    assert NeuronSpec.parse("2 5").resolve(net, x) == (2, 5)
    with pytest.raises(ValueError):
        NeuronSpec.parse("2 16").resolve(net, x)
    a2 = net.forward(x[None]).activations[2][0]
    assert ParamSpec.parse("weight last label brightest").resolve(net, x, 7) == ParamRef(2, 7, int(np.argmax(a2)))
    assert ParamSpec.parse("bias 1 3").resolve(net, x, 7) == ParamRef(0, 3, None)
    assert ParamSpec.parse("weight 2 4 9").resolve(net, x, 7) == ParamRef(1, 4, 9)
    for bad in ("weight last label", "bias 1 2 3", "gain 1 2", "weight 0 1 1"):
        with pytest.raises(ValueError):
            ParamSpec.parse(bad)
