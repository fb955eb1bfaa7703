"""A non-editable install must carry every resource (the sample, the models, the icons)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_wheel_contains_resources_and_entry_points(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    if r.returncode != 0 and "No module named" in r.stderr:
        pytest.skip(f"cannot build a wheel here: {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr
    wheel = next(tmp_path.glob("nnstudio-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    expected = [p.relative_to(REPO / "resources").as_posix() for p in (REPO / "resources").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts]
    assert expected, "resources/ is empty"
    for rel in expected:
        assert f"nnstudio/resources/{rel}" in names, rel
    entry = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry[0]).decode()
    assert "[gui_scripts]" in text and "nnstudio = nnstudio.cli:main" in text


def test_resource_lookup_from_source_tree():
    from nnstudio._resources import resource_path

    assert resource_path("data", "mnist-sample.npz").is_file()
