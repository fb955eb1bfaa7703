"""Screenshots of every view of the real studio window at a given size and theme, and (--check) the
layout problems a person would see there (cut-off or squashed controls, overlaps, text under 9 pt).

    python scripts/screenshots.py --size 1280x720 --theme dark --out docs/screens
    python scripts/screenshots.py --size 1024x700 --check            # problems only, no files
    DISPLAY=:99 QT_QPA_PLATFORM=xcb python scripts/screenshots.py ...  # under Xvfb instead of offscreen

The window runs on a fresh profile (a temporary settings folder), trains one epoch of the embedded
sample at full speed, then each dock is raised in turn and the window grabbed:
``{size}-{theme}-{view}.png`` for draw, plots, backprop, playground, landscape, evaluation, lessons.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "gui"))

VIEWS = ("draw", "plots", "backprop", "playground", "landscape", "evaluation", "lessons")


def offscreen_screen(width: int, height: int) -> str:
    cfg = Path(tempfile.gettempdir()) / f"nnstudio-screen-{width}x{height}.json"
    cfg.write_text(json.dumps({"synchronousWindowSystemEvents": False, "windowFrameMargins": False,
                               "screens": [{"name": "shots", "x": 0, "y": 0, "width": width, "height": height,
                                            "logicalDpi": 96}]}))
    return f"offscreen:configfile={cfg}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--theme", choices=("dark", "light"), default="dark")
    ap.add_argument("--out", default=None, help="folder for the PNGs (none: no files)")
    ap.add_argument("--views", default=",".join(VIEWS))
    ap.add_argument("--check", action="store_true", help="print the layout problems of each view")
    args = ap.parse_args()
    width, height = (int(x) for x in args.size.lower().split("x"))
    os.environ["NNSTUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="nnstudio-shots-")
    os.environ.setdefault("QT_QPA_PLATFORM", offscreen_screen(width, height))

    from nnstudio.gui.app import build_window
    from nnstudio.gui.qt import QtCore

    app, w = build_window()
    loop = QtCore.QEventLoop()

    def wait(ms):
        QtCore.QTimer.singleShot(int(ms), loop.quit)
        loop.exec()

    w.show()  # (opens fitted to the screen, as on a laptop)
    w.session.confirm = lambda question: True  # (the lessons may replace the trained network: no dialog here)
    w.start()
    while w.session.dataset is None:
        wait(50)
    if args.theme == "light":
        w.light_action.trigger()
    w.actions.full_speed.trigger()
    wait(200)
    w.session.step_epoch()
    wait(1500)
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    tag = f"{width}x{height}-{args.theme}"
    found = 0
    for view in args.views.split(","):
        if view == "lessons":
            w.open_lessons()
            w.lessons_view.setup_button.click()
        elif view == "plots":
            w.show_view("plots")
        elif view in ("playground", "landscape"):
            w.show_view(view)
        else:
            w.show_view(view)
        wait(900)
        if out is not None:
            path = out / f"{tag}-{view}.png"
            w.grab().save(str(path))
            print("wrote", path)
        if args.check:
            import geometry

            problems = geometry.problems(w)
            found += len(problems)
            print(f"{tag} {view}: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
            for p in problems:
                print("   ", p)
    print(f"window {w.width()}×{w.height()} on a {width}×{height} screen")
    w.close()
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
