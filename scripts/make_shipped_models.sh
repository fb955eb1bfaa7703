#!/bin/sh
# Re-make the two pretrained networks shipped in resources/models, exactly (see resources/models/README.md).
#
#   scripts/make_shipped_models.sh [OUT_DIR]        (run from the repository root; OUT_DIR: resources/models)
#
# Needs real MNIST as the `mnist` dataset: `nnstudio download mnist` once, or NNSTUDIO_CACHE_DIR pointing to a
# folder whose mnist/ holds the four IDX .gz files.  Training runs on nnstudio's C engine (the default when it
# is built); NNSTUDIO_ENGINE=numpy gives other weights of the same quality (the engines round differently).
# Same machine type, same engine: the same weights, bit for bit (the `seconds` recorded in the files differ).
# About 10 s and 25 s of training on a 2-core machine.
set -eu
OUT=${1:-resources/models}
PY=${PYTHON:-python}

$PY -m nnstudio train --data mnist --cost cross-entropy --learning-rate 0.5 --lr-decay 0.9 --weight-decay 5 \
    --augment 1 --epochs 30 --seed 2 --quiet --out "$OUT/mnist-784-16-16-10.npz"
$PY -m nnstudio train --data mnist --sizes 784,100,10 --cost cross-entropy --learning-rate 0.5 --lr-decay 0.9 \
    --weight-decay 5 --augment 1 --epochs 30 --seed 2 --quiet --out "$OUT/mnist-784-100-10.npz"
$PY -m nnstudio evaluate "$OUT/mnist-784-16-16-10.npz" --data mnist | sed -n 2p
$PY -m nnstudio evaluate "$OUT/mnist-784-100-10.npz" --data mnist | sed -n 2p
