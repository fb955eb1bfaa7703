"""Build the optional C accelerator of the trainer, and list the packages (the rest is in pyproject.toml).

``_nnstudio_sgd`` (source: nnstudio/core/_sgd.c) does one mini-batch of SGD in one call.  It is
*optional*: if there is no C compiler, the build skips it and the trainer uses its NumPy loop,
which computes the same thing (about 4× slower at batch size 10).  It is a top-level module so
that the source tree (``python -m pytest`` from a checkout) also finds it once installed.
"""

import sys

from setuptools import Extension, find_packages, setup

setup(
    # every package under nnstudio/, plus the shipped resources (mapped from resources/ in pyproject.toml)
    packages=find_packages(include=["nnstudio", "nnstudio.*"]) + ["nnstudio.resources"],
    ext_modules=[
        Extension(
            "_nnstudio_sgd",
            sources=["nnstudio/core/_sgd.c"],
            # -Wno-psabi: GCC notes that 32-byte vectors are passed differently with AVX; the kernel's
            # vector helpers are always inlined, so no such vector crosses a call
            extra_compile_args=[] if sys.platform == "win32" else ["-O3", "-Wno-psabi"],
            optional=True,
        )
    ]
)
