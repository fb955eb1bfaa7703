"""The one set of limits: how much nnstudio takes on, checked before anything is read or built.

Every size that comes from outside (a model file's layer sizes and array headers, an IDX header, an
image's dimensions, a download's Content-Length, the layer sizes typed in the window or given to
``nnstudio train``) is checked here *before* the memory it implies is allocated or the bytes are read.
A refusal is a :class:`LimitError` whose message is one line that names the limit and, for a limit a
person might reasonably reach, the environment variable that raises it.

==============================  =========================  =======================================
limit                           default                    raised with
==============================  =========================  =======================================
memory to build and train a     2,048 MB                   ``NNSTUDIO_MAX_NETWORK_MB``
network (:func:`check_network`)
images held in memory (a        1,024 MB                   ``NNSTUDIO_MAX_DATA_MB``
dataset's files, augmented
copies: :func:`check_data`)
an image file's size            64 megapixels              ``NNSTUDIO_MAX_IMAGE_MP``
(:func:`check_image`)
weight layers of a network      100                        (fixed)
a model file's metadata         64 MB                      (fixed; saving trims the history)
drawings kept as "my digits"    10,000; a file ≤ 16 MB     (fixed)
random seeds                    0 … 2,147,483,647          (fixed: the window's seed field)
==============================  =========================  =======================================

The same :func:`check_network` guards ``nnstudio train``, the window's architecture field and the
model loader (which checks with a mini-batch of one, so every network ``train`` accepted loads).

Plain Python (no NumPy, no Qt): the engine, the data layer, the session, the CLI and the window all
import it.
"""

from __future__ import annotations

import math
import os
import warnings

__all__ = [
    "DATA",
    "IMAGE",
    "MAX_LAYERS",
    "MAX_METADATA_BYTES",
    "MY_DIGITS",
    "MY_DIGITS_FILE_BYTES",
    "NETWORK",
    "SEED_MAX",
    "Limit",
    "LimitError",
    "check_data",
    "check_image",
    "check_network",
    "estimate_network_bytes",
]

MB = 1 << 20

#: weight layers a network may have (the window's diagram, the trainer's per-layer work)
MAX_LAYERS = 100
#: bytes of a model file's JSON metadata (as stored: 4 bytes a character)
MAX_METADATA_BYTES = 64 * MB
#: drawings the user may keep as "my digits" (28×28 each: 7.7 MB of images), and the largest such file
MY_DIGITS = 10_000
MY_DIGITS_FILE_BYTES = 16 * MB
#: a run file (File ▸ Save run, ``nnstudio train --save-run``): the most bytes it may hold (on disk and
#: decompressed), mini-batch rows (44 bytes each) and checkpoints; nnstudio.training.runfile
RUN_FILE_BYTES = 1024 * MB
RUN_ROWS = 20_000_000
RUN_CHECKPOINTS = 100_000
#: the largest random seed (the window's seed field goes this far)
SEED_MAX = 2**31 - 1
#: rows of one evaluation block (``Network.evaluate`` feeds the test set 10,000 examples at a time)
EVAL_ROWS = 10_000
#: copies of the parameters a run keeps: the network, its start (for Rewind), the gradient, the last
#: finite weights (restored after a divergence)
PARAM_COPIES = 4
#: what any run takes besides (the engine's and NumPy's own buffers), in bytes
OVERHEAD = 32 * MB


class LimitError(ValueError):
    """Something is over one of nnstudio's limits; ``str()`` is one line naming the limit."""


class Limit:
    """A limit read from the environment each time (so a test or a shell can change it)."""

    def __init__(self, env: str, default: int, unit: str):
        self.env, self.default, self.unit = env, int(default), unit

    def value(self) -> int:
        """The limit: ``$env`` if it holds a number >= 1, else the default (and a warning: a typo in
        a variable must not make every network, or none, too big)."""
        text = os.environ.get(self.env, "").strip()
        if not text:
            return self.default
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and v >= 1):
            warnings.warn(f"{self.env}={text!r} is not a number of {self.unit} (at least 1); using {self.default:,}",
                          stacklevel=3)
            return self.default
        return int(v)

    def over(self, needed: float, advice: str) -> str:
        """'over the limit of 2,048 MB: <advice>, or raise it with NNSTUDIO_…=2500' for ``needed``
        (in this limit's unit); no value is offered for what no machine has."""
        short = {"megabytes": "MB"}.get(self.unit, self.unit)
        head = f"over the limit of {self.value():,} {short}"
        if not math.isfinite(needed) or needed > 1e6:
            return f"{head} ({self.env}): {advice}"
        step = 100 if needed >= 100 else 10
        return f"{head}: {advice}, or raise it with {self.env}={int(math.ceil(needed / step + 1e-9) * step)}"


NETWORK = Limit("NNSTUDIO_MAX_NETWORK_MB", 2048, "megabytes")
DATA = Limit("NNSTUDIO_MAX_DATA_MB", 1024, "megabytes")
IMAGE = Limit("NNSTUDIO_MAX_IMAGE_MP", 64, "megapixels")


def _size(n: float) -> str:
    """Bytes for people: '312 MB', '2.6 GB', '6.0e+19 GB'."""
    mb = n / MB
    if mb < 1024:
        return f"{mb:,.0f} MB"
    gb = mb / 1024
    return f"{gb:,.1f} GB" if gb < 1e6 else f"{gb:.1e} GB"


def _sizes_text(sizes) -> str:
    text = "-".join(str(s) for s in sizes)
    return text if len(text) <= 60 else text[:57] + "..."


def estimate_network_bytes(sizes, batch_size: int = 1) -> int:
    """Bytes that building ``sizes`` and training it on mini-batches of ``batch_size`` take at most:
    the parameters (8 bytes each) :data:`PARAM_COPIES` times, the random draw of the widest layer,
    the trainer's buffers for one mini-batch, one evaluation block of :data:`EVAL_ROWS` examples
    with every layer's weighted sums and activations, and :data:`OVERHEAD`.  Exact integers: any
    size, however absurd, is answered without allocating anything.  (Measured: 784-16-16-10 takes
    0.87 of this, 784-1000-1000-10 0.80, 784-2000-10 0.68, 784-4096-4096-10 0.76.)"""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        return 0
    layers = [(a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])]
    outs = sum(sizes[1:])
    per_example_train = sizes[0] + 1 + 5 * outs
    per_example_eval = sizes[0] + 2 * outs + max(sizes[1:])
    words = (PARAM_COPIES * sum(layers) + 2 * max(layers) + max(1, int(batch_size)) * per_example_train
             + EVAL_ROWS * per_example_eval)
    return 8 * words + OVERHEAD


def check_network(sizes, batch_size: int = 1) -> None:
    """Raise :class:`LimitError` unless a network of ``sizes`` (at least two layers of at least one
    neuron, at most :data:`MAX_LAYERS` weight layers) fits in :data:`NETWORK`'s memory when trained
    on mini-batches of ``batch_size``."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise LimitError(f"{_sizes_text(sizes)}: a network needs at least two layers of at least one neuron each")
    if len(sizes) - 1 > MAX_LAYERS:
        raise LimitError(f"{_sizes_text(sizes)}: {len(sizes) - 1} weight layers; nnstudio handles at most {MAX_LAYERS}")
    need = estimate_network_bytes(sizes, batch_size)
    if need > NETWORK.value() * MB:
        raise LimitError(f"a {_sizes_text(sizes)} network needs about {_size(need)} to train, "
                         f"{NETWORK.over(need / MB, 'use fewer or smaller layers')}")


def check_data(nbytes: int, what: str) -> None:
    """Raise :class:`LimitError` if ``what`` (``nbytes`` of images in memory) is over :data:`DATA`."""
    if nbytes > DATA.value() * MB:
        raise LimitError(f"{what} would take {_size(nbytes)} of memory, {DATA.over(nbytes / MB, 'use less')}")


def check_image(width: int, height: int, name: str) -> None:
    """Raise :class:`LimitError` if an image of ``width`` × ``height`` is over :data:`IMAGE`."""
    mp = width * height / 1e6
    if mp > IMAGE.value():
        raise LimitError(f"{name}: the image is {width:,}×{height:,} ({mp:,.1f} megapixels), "
                         f"{IMAGE.over(mp, 'shrink it first')}")
