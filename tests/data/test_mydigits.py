""""My digits" on disk: kept exactly, bounded, written atomically, and a damaged file refused in one line."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio import limits
from nnstudio.data.mydigits import (
    FILE_NAME, MyDigits, MyDigitsError, data_dir, load_my_digits, mixed_training_set, my_digits_path, repeats_for,
    save_my_digits, set_aside,
)


def some_digits(n=3, seed=0) -> MyDigits:
    rng = np.random.default_rng(seed)
    d = MyDigits.empty()
    for i in range(n):
        d, _ = d.with_digit(rng.random(784), i % 10, when=1_700_000_000 + i)
    return d


def same(a: MyDigits, b: MyDigits) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("images", "labels", "ids", "added"))


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def valid_arrays(n=2) -> dict:
    d = some_digits(n)
    return dict(images=d.images, labels=d.labels, ids=d.ids, added=d.added, format_version=np.int64(1))


def test_the_data_folder_is_the_environments_or_the_platforms(monkeypatch, tmp_path):
    monkeypatch.setenv("NNSTUDIO_DATA_DIR", str(tmp_path / "mine"))
    assert my_digits_path() == tmp_path / "mine" / FILE_NAME
    monkeypatch.delenv("NNSTUDIO_DATA_DIR")
    assert data_dir().name == "nnstudio"  # platformdirs.user_data_dir("nnstudio")


def test_digits_are_kept_exactly_and_edits_make_new_collections(tmp_path):
    d = some_digits(3)
    assert len(d) == 3 and d.images.dtype == np.uint8 and list(d.ids) == [0, 1, 2]
    with pytest.raises(ValueError):
        d.images[0, 0, 0] = 1  # (read-only: whoever shows it can keep it)
    path = save_my_digits(d, tmp_path / "new folder" / FILE_NAME)  # (the folder is made)
    back = load_my_digits(path)
    assert same(back, d)
    e = d.relabelled(1, 7).without(0)
    assert list(e.ids) == [1, 2] and list(e.labels) == [7, 2] and list(d.labels) == [0, 1, 2]
    f, new_id = e.with_digit(np.zeros((28, 28)), 4)
    assert new_id == 3  # (ids are never reused)
    with pytest.raises(KeyError):
        e.without(0)
    with pytest.raises(ValueError):
        e.relabelled(1, 10)
    assert [p.name for p in (tmp_path / "new folder").iterdir()] == [FILE_NAME]  # (no temporary file left)


def test_a_missing_file_is_an_empty_collection(tmp_path):
    assert len(load_my_digits(tmp_path / FILE_NAME)) == 0


def test_the_collection_is_bounded(monkeypatch):
    monkeypatch.setattr(limits, "MY_DIGITS", 2)
    d = some_digits(2)
    with pytest.raises(ValueError, match="2 drawings already"):
        d.with_digit(np.zeros(784), 1)


@pytest.mark.parametrize("content,says", [
    (b"", "damaged"),
    (b"not a zip at all", "damaged"),
    (npz_bytes(images=np.zeros((1, 28, 28), np.uint8)), "not a file of my digits"),
    (npz_bytes(**dict(valid_arrays(), labels=np.array([1, 12], np.uint8))), "not a digit"),
    (npz_bytes(**dict(valid_arrays(), labels=np.array([1, 2], np.int64))), "not uint8"),
    (npz_bytes(**dict(valid_arrays(), ids=np.array([4, 4], np.int64))), "ids"),
    (npz_bytes(**dict(valid_arrays(), added=np.array([1.0, np.nan]))), "date"),
    (npz_bytes(**dict(valid_arrays(), images=np.zeros((3, 28, 28), np.uint8))), "disagree"),
    (npz_bytes(**dict(valid_arrays(), format_version=np.int64(7))), "another version"),
    (npz_bytes(**dict(valid_arrays(), labels=np.array([object(), 1], dtype=object))), "holds object"),
])
def test_a_damaged_file_is_refused_in_one_line(tmp_path, content, says):
    path = tmp_path / FILE_NAME
    path.write_bytes(content)
    with pytest.raises(MyDigitsError) as err:
        load_my_digits(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(FILE_NAME) and says in msg, msg
    assert path.read_bytes() == content  # (nothing changed on disk)


def test_sizes_are_checked_before_anything_is_read(tmp_path, monkeypatch):
    path = tmp_path / FILE_NAME
    # a file of my digits whose images declare 64 MB (deflated zeros: a few KB on disk)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for key, a in valid_arrays().items():
            if key != "images":
                buf = io.BytesIO()
                np.save(buf, a)
                z.writestr(f"{key}.npy", buf.getvalue())
        with z.open("images.npy", "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(64):
                f.write(chunk)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(MyDigitsError, match="declares 67,108,864 bytes"):
        load_my_digits(path)
    monkeypatch.setattr(limits, "MY_DIGITS_FILE_BYTES", 100)
    save_my_digits(some_digits(3), path)
    with pytest.raises(MyDigitsError, match="more than a file of"):
        load_my_digits(path)


def test_not_a_file_is_refused(tmp_path):
    (tmp_path / FILE_NAME).mkdir()
    with pytest.raises(MyDigitsError, match="folder|cannot be opened"):
        load_my_digits(tmp_path / FILE_NAME)
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(MyDigitsError, match="named pipe"):
        load_my_digits(fifo)  # (returns at once: a pipe is never opened for reading)


def test_a_failed_save_keeps_the_old_file_and_says_so_in_one_line(tmp_path):
    path = tmp_path / FILE_NAME
    save_my_digits(some_digits(2), path)
    old = path.read_bytes()
    os.chmod(path, 0o444)  # (write-protected: refused even for root)
    with pytest.raises(MyDigitsError) as err:
        save_my_digits(some_digits(5), path)
    assert "\n" not in str(err.value) and "could not save" in str(err.value)
    assert path.read_bytes() == old and [p.name for p in tmp_path.iterdir()] == [FILE_NAME]
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(MyDigitsError, match="could not save"):
        save_my_digits(some_digits(1), blocker / "sub" / FILE_NAME)


def test_set_aside_keeps_the_damaged_file_under_a_free_name(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"damaged")
    first = set_aside(path)
    path.write_bytes(b"damaged again")
    second = set_aside(path)
    assert not path.exists() and first != second
    assert first.read_bytes() == b"damaged" and second.read_bytes() == b"damaged again"
    assert first.name.startswith("my-digits.damaged-") and first.suffix == ".npz"


def test_mixing_in_repeats_each_digit_to_about_one_percent():
    assert repeats_for(4000, 1) == 40 and repeats_for(4000, 3) == 13 and repeats_for(60_000, 5) == 100
    assert repeats_for(4000, 500) == 1 and repeats_for(4000, 0) == 0
    x = np.zeros((100, 784), np.uint8)
    y = np.arange(100, dtype=np.uint8) % 10
    mine = some_digits(2)
    mx, my, r = mixed_training_set(x, y, mine)
    assert r == 1 and mx.shape == (102, 784) and list(my[-2:]) == [0, 1]
    np.testing.assert_array_equal(mx[:100], x)  # the dataset's own examples keep their indices
    np.testing.assert_array_equal(mx[100:], mine.x)
    assert mixed_training_set(x, y, MyDigits.empty())[2] == 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_files_load_or_fail_in_one_line(tmp_path, data):
    good = bytearray(npz_bytes(**valid_arrays(3)))
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(good) - 1))
        good[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(good)))
    path = tmp_path / FILE_NAME
    path.write_bytes(bytes(good[:cut]) if data.draw(st.booleans()) else bytes(good))
    try:
        d = load_my_digits(path)
    except MyDigitsError as e:
        assert "\n" not in str(e)
    else:
        assert d.images.shape == (len(d), 28, 28) and d.labels.max(initial=0) <= 9
