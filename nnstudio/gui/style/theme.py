"""Colours and styles, in the spirit of 3Blue1Brown's videos: a near-black background,
white neurons lit by their activation, blue for positive weights and red for negative."""

from __future__ import annotations

import numpy as np

BACKGROUND = "#0e1116"
PANEL = "#161b22"
TEXT = "#e6edf3"
MUTED = "#8b949e"
ACCENT = "#f5c542"  # the 3b1b yellow, for highlights (winning digit, selection)
#: the style of a <sub> or <sup> in rich text: Qt draws them at 2/3 of their size, so 14 pt comes out at
#: ~9.3 pt, the smallest text the app shows (a plain <sub> in 10 pt text was ~6.7 pt)
SCRIPT = "font-size:14pt"
POSITIVE = (88, 196, 221)  # blue: positive weight
NEGATIVE = (252, 98, 85)  # red: negative weight
GOOD = "#3fb950"
BAD = "#f85149"
PAST = "#d2a8ff"  # the past on screen (the timeline): violet, unlike every colour the network uses

LIGHT = {
    "BACKGROUND": "#f6f8fa",
    "PANEL": "#ffffff",
    "TEXT": "#1f2328",
    "MUTED": "#59636e",
    "PAST": "#8250df",  # (the pale violet is faint on white)
}


def weight_rgba(w: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Map weights to RGBA uint8 colours: blue for positive, red for negative, opacity by |w|.

    ``scale`` is the magnitude that maps to full opacity (default: the largest |w|).
    """
    w = np.asarray(w, dtype=np.float64)
    if scale is None:
        scale = float(np.abs(w).max()) if w.size else 1.0
    scale = scale or 1.0
    strength = np.clip(np.abs(w) / scale, 0.0, 1.0)
    out = np.empty(w.shape + (4,), dtype=np.uint8)
    pos = w >= 0
    out[..., :3] = np.where(pos[..., None], POSITIVE, NEGATIVE)
    out[..., 3] = (40 + 215 * strength).astype(np.uint8)
    return out


def weight_image(w28: np.ndarray, scale: float | None = None) -> np.ndarray:
    """A 28×28 (or any 2-D) weight map as an RGB uint8 image on black: blue +, red −."""
    w = np.asarray(w28, dtype=np.float64)
    if scale is None:
        scale = float(np.abs(w).max()) if w.size else 1.0
    scale = scale or 1.0
    s = np.clip(np.abs(w) / scale, 0.0, 1.0)[..., None]
    col = np.where((w >= 0)[..., None], np.array(POSITIVE, float), np.array(NEGATIVE, float))
    return (col * s).astype(np.uint8)


def activation_gray(a: np.ndarray) -> np.ndarray:
    """Activation 0..1 to a grey level 0..255 (0 = dark, 1 = white)."""
    return (np.clip(np.asarray(a, dtype=np.float64), 0.0, 1.0) * 255).astype(np.uint8)
