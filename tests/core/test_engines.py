"""The C engine against the NumPy reference over whole runs, on real digits.

The two add up in different orders (the kernel with fused multiply-adds, its own vectorised
exp, the first layer's sums pixel by pixel), so they agree to rounding, and rounding grows
along a run by how sensitive the run is: on the default network a whole run stays within
~1e-13 of each other; a run at the edge of stability (tanh with η = 1, say) is chaotic and
two runs of either engine from weights 1e-16 apart end up apart too (the old kernel did the
same).  Measured here: parameters within 1e-14 (784-16-16-10) to 8e-13 (784-300-10, 400 steps), mean costs
within 5e-15 relative; the tolerances below (1e-11 and 1e-11) leave a margin of 13 or more.
"""

import numpy as np
import pytest

from nnstudio.core import Network, Trainer
from nnstudio.core.trainer import c_engine_available
from nnstudio.data import load_dataset

pytestmark = pytest.mark.skipif(not c_engine_available(), reason="the C kernel is not built")


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("mnist-sample")
    return ds.train_x[:2000], ds.train_labels[:2000], ds.test_x[:500], ds.test_labels[:500]


def run(engine, digits, sizes, epochs, as_float=False, **kw):
    x, y, xt, yt = digits
    if as_float:
        x, xt = x / 255.0, xt / 255.0
    net = Network(sizes, activation=kw.pop("activation", "sigmoid"), cost=kw.pop("cost", "quadratic"), seed=5)
    tr = Trainer(net, x, y, xt, yt, seed=5, engine=engine, **kw)
    assert tr.engine_in_use == engine
    history = tr.run(epochs=epochs)
    return history, net.get_params()


@pytest.mark.parametrize(
    "sizes, kw",
    [
        ((784, 16, 16, 10), dict(learning_rate=1.5, batch_size=10, weight_decay=1.0)),  # the default network
        ((784, 30, 10), dict(learning_rate=0.3, batch_size=32, activation="relu", cost="cross-entropy")),
        ((784, 300, 10), dict(learning_rate=1.0, batch_size=10)),  # the first layer updated pixel by pixel
        ((784, 16, 16, 10), dict(learning_rate=1.5, batch_size=1000)),
    ],
)
@pytest.mark.parametrize("as_float", [False, True])
def test_whole_runs_agree(digits, sizes, kw, as_float):
    c_hist, c_params = run("c", digits, sizes, 2, as_float, **dict(kw))
    np_hist, np_params = run("numpy", digits, sizes, 2, as_float, **dict(kw))
    for a, b in zip(c_hist, np_hist):
        assert a.test_accuracy == b.test_accuracy
        assert a.train_cost == pytest.approx(b.train_cost, rel=1e-11)
        assert a.test_cost == pytest.approx(b.test_cost, rel=1e-11)
    for p, q in zip(c_params, np_params):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-11)


BASELINE_RUN = """
import sys, numpy as np, _nnstudio_sgd
from nnstudio.core import Network, Trainer
from nnstudio.data import load_dataset
ds = load_dataset("mnist-sample")
net = Network((784, 100, 10), seed=5)
tr = Trainer(net, ds.train_x[:1000], ds.train_labels[:1000], seed=5, batch_size=20, engine="c")
costs = [tr.step().cost for _ in range(30)]
np.savez(sys.argv[1], costs=costs, *net.get_params(), isa=_nnstudio_sgd.ISA)
"""


def test_the_kernels_baseline_build_agrees(tmp_path):
    """CPUs without AVX2 get the kernel's baseline build (forced here with NNSTUDIO_KERNEL=baseline)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "baseline.npz"
    env = dict(os.environ, NNSTUDIO_KERNEL="baseline")
    subprocess.run([sys.executable, "-c", BASELINE_RUN, str(out)], check=True, env=env,
                   cwd=Path(__file__).resolve().parents[2])
    ds = load_dataset("mnist-sample")
    net = Network((784, 100, 10), seed=5)
    tr = Trainer(net, ds.train_x[:1000], ds.train_labels[:1000], seed=5, batch_size=20, engine="c")
    costs = [tr.step().cost for _ in range(30)]
    with np.load(out) as f:
        assert str(f["isa"]) == "baseline"
        np.testing.assert_allclose(f["costs"], costs, rtol=1e-12)
        for i, p in enumerate(net.get_params()):
            np.testing.assert_allclose(f[f"arr_{i}"], p, rtol=0, atol=1e-13)
