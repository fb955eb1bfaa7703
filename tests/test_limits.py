"""The one set of limits (nnstudio/limits.py): answered from sizes alone, one line naming the limit
and how to raise it, the same for the trainer, the window and the model loader."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from nnstudio import limits
from nnstudio.core import Network
from nnstudio.limits import LimitError, check_data, check_image, check_network, estimate_network_bytes


def test_absurd_sizes_are_answered_at_once_without_allocating():
    t0 = time.perf_counter()
    for sizes in [(784, 10_000_000, 10), (784, 100_000, 10), (784, 99999999999999999999999, 10),
                  (784,) + (4096,) * 11 + (10,)]:
        with pytest.raises(LimitError) as err:
            check_network(sizes, 10)
        msg = str(err.value)
        assert "\n" not in msg and "over the limit of 2,048 MB" in msg and "NNSTUDIO_MAX_NETWORK_MB" in msg
        assert len(msg) < 220
        with pytest.raises(LimitError):
            Network(sizes)  # (the engine refuses too, before its first allocation)
    assert time.perf_counter() - t0 < 1


def test_a_limit_someone_may_reach_says_how_to_raise_it(monkeypatch):
    sizes = (784, 4096, 4096, 10)
    with pytest.raises(LimitError, match=r"use fewer or smaller layers, or raise it with NNSTUDIO_MAX_NETWORK_MB=\d+$") as err:
        check_network(sizes, 10)
    monkeypatch.setenv("NNSTUDIO_MAX_NETWORK_MB", str(err.value).rsplit("=", 1)[1])
    check_network(sizes, 10)  # the value it names is enough
    monkeypatch.setenv("NNSTUDIO_MAX_NETWORK_MB", "lots")  # (not a number: the default, and a warning)
    with pytest.warns(UserWarning, match="NNSTUDIO_MAX_NETWORK_MB='lots' is not a number of megabytes"):
        with pytest.raises(LimitError, match="over the limit of 2,048 MB"):
            check_network(sizes, 10)


def test_layers_and_other_limits():
    with pytest.raises(LimitError, match="at most 100"):
        check_network((2,) * 102)
    with pytest.raises(LimitError, match="at least one neuron"):
        check_network((784, 0, 10))
    with pytest.raises(LimitError, match="NNSTUDIO_MAX_DATA_MB=1200"):
        check_data(1100 << 20, "these images")
    check_data(1000 << 20, "these images")
    with pytest.raises(LimitError, match=r"29,000,000×3 \(87.0 megapixels\).*NNSTUDIO_MAX_IMAGE_MP=90"):
        check_image(29_000_000, 3, "wide.png")
    check_image(8000, 8000, "photo.jpg")


def test_the_estimate_grows_with_every_size_and_train_accepted_models_load():
    base = estimate_network_bytes((784, 100, 10), 10)
    assert estimate_network_bytes((784, 200, 10), 10) > base
    assert estimate_network_bytes((784, 100, 100, 10), 10) > base
    assert estimate_network_bytes((784, 100, 10), 100) > base
    # the loader checks with a mini-batch of one: whatever train accepted (any batch) loads
    assert estimate_network_bytes((784, 100, 10), 1) <= base
    assert limits.MAX_LAYERS == 100 and limits.SEED_MAX == 2**31 - 1


_MEASURE = r"""
import sys
import numpy as np
from nnstudio.core import Network, Trainer

def peak():  # this process image's own peak (ru_maxrss would carry the parent's across fork and exec)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) * 1024

sizes = tuple(int(s) for s in sys.argv[1].split(","))
rng = np.random.default_rng(0)
tx = rng.integers(0, 255, (2000, 784), dtype=np.uint8); ty = rng.integers(0, 10, 2000).astype(np.uint8)
vx = rng.integers(0, 255, (10000, 784), dtype=np.uint8); vy = rng.integers(0, 10, 10000).astype(np.uint8)
before = peak()
net = Network(sizes, seed=0)
tr = Trainer(net, tx, ty, vx, vy, batch_size=10, epochs=2)
for _ in range(20):
    tr.step()
net.evaluate(vx, vy)
print(peak() - before)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
@pytest.mark.parametrize("sizes", [(784, 16, 16, 10), (784, 1000, 1000, 10), (784, 2000, 10)])
def test_the_estimate_covers_what_building_and_training_really_take(sizes):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")  # (as the CLI and the training process run)
    r = subprocess.run([sys.executable, "-c", _MEASURE, ",".join(map(str, sizes))], capture_output=True, text=True,
                       timeout=120, env=env)
    used = int(r.stdout.split()[-1])
    est = estimate_network_bytes(sizes, 10)
    assert used <= est, (used, est)
    if est > 300 << 20:  # (and not far above, where the network is what takes the memory)
        assert est <= 2 * used, (used, est)
