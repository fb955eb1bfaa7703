"""Draw nnstudio's application icon: a small neural network in the 3Blue1Brown style.

Writes ``resources/icons/nnstudio.svg`` (the source) and renders it to
``resources/icons/nnstudio.png`` (256×256) with Qt's SVG renderer.

    python scripts/make_icon.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "icons"

BG = "#0e1116"
RIM = "#2a313b"
BLUE = "#58c4dd"  # positive weight
RED = "#fc6255"  # negative weight
ACCENT = "#f5c542"


def svg() -> str:
    # three layers: 4 inputs, 3 hidden, 2 outputs (the winner lit in the accent colour)
    layers = [
        [(64, 58), (64, 104), (64, 150), (64, 196)],
        [(128, 80), (128, 128), (128, 176)],
        [(192, 104), (192, 152)],
    ]
    acts = [[0.95, 0.35, 0.8, 0.2], [0.85, 0.3, 0.65], [1.0, 0.25]]
    # weight sign and strength per edge, fixed so the icon is stable
    signs = [
        [[1, -1, 1], [1, 1, -1], [-1, 1, 1], [1, -1, -1]],
        [[1, -1], [-1, 1], [1, -1]],
    ]
    strength = [
        [[0.9, 0.5, 0.7], [0.4, 0.8, 0.5], [0.6, 0.9, 0.4], [0.5, 0.4, 0.8]],
        [[1.0, 0.6], [0.7, 0.5], [0.9, 0.4]],
    ]
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">',
        "<title>nnstudio</title>",
        f'<rect x="8" y="8" width="240" height="240" rx="52" fill="{BG}" stroke="{RIM}" stroke-width="4"/>',
    ]
    for l in range(2):
        for i, (x0, y0) in enumerate(layers[l]):
            for j, (x1, y1) in enumerate(layers[l + 1]):
                col = BLUE if signs[l][i][j] > 0 else RED
                s = strength[l][i][j]
                parts.append(
                    f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="{col}" '
                    f'stroke-width="{2 + 4 * s:.1f}" stroke-opacity="{0.35 + 0.6 * s:.2f}" stroke-linecap="round"/>'
                )
    for l, layer in enumerate(layers):
        for i, (x, y) in enumerate(layer):
            a = acts[l][i]
            g = int(40 + 215 * a)
            fill = f"#{g:02x}{g:02x}{g:02x}"
            winner = l == 2 and i == 0
            stroke = ACCENT if winner else "#e6edf3"
            r = 17 if l < 2 else 19
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="{r}" fill="{fill}" stroke="{stroke}" '
                f'stroke-width="{6 if winner else 3}"/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    OUT.mkdir(parents=True, exist_ok=True)
    text = svg()
    (OUT / "nnstudio.svg").write_text(text, encoding="utf-8")
    from PySide6 import QtCore, QtGui, QtSvg

    app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication(sys.argv[:1])  # Qt needs one to render
    renderer = QtSvg.QSvgRenderer(QtCore.QByteArray(text.encode()))
    img = QtGui.QImage(256, 256, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(0)
    p = QtGui.QPainter(img)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    renderer.render(p)
    p.end()
    app.processEvents()
    if not img.save(str(OUT / "nnstudio.png"), "PNG"):
        print("could not write nnstudio.png", file=sys.stderr)
        return 1
    print(f"wrote {OUT / 'nnstudio.svg'} and {OUT / 'nnstudio.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
