"""The atomic writer and the output folder: nothing the user made is ever overwritten or left
half-written. Damaged-looking cases check the files byte for byte afterwards."""

from __future__ import annotations

import os

import pytest

from cnnviz.errors import ExportError
from cnnviz.io.files import atomic_write, prepare_output_dir


def test_a_failing_writer_leaves_the_old_file_whole_and_no_temporary(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"the user's picture")

    def half(f):
        f.write(b"half a pict")
        raise OSError(28, "No space left on device")

    with pytest.raises(ExportError, match="No space left on device"):
        atomic_write(target, half)
    assert target.read_bytes() == b"the user's picture"
    assert os.listdir(tmp_path) == ["out.png"]


def test_an_output_that_is_an_input_is_refused(tmp_path):
    src = tmp_path / "in.json"
    src.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(src)
    for out in (src, link):
        with pytest.raises(ExportError, match="inputs"):
            atomic_write(out, b"x", inputs=[src])
    assert src.read_text() == "{}"


def test_a_non_empty_output_folder_needs_overwrite(tmp_path):
    out = tmp_path / "figures"
    out.mkdir()
    (out / "old.png").write_bytes(b"old")
    with pytest.raises(ExportError, match="--overwrite"):
        prepare_output_dir(out)
    assert prepare_output_dir(out, overwrite=True) == out
    assert (out / "old.png").read_bytes() == b"old"


def test_an_output_folder_holding_an_input_is_refused_even_with_overwrite(tmp_path):
    out = tmp_path / "work"
    out.mkdir()
    photo = out / "photo.png"
    photo.write_bytes(b"pixels")
    with pytest.raises(ExportError, match="inputs"):
        prepare_output_dir(out, overwrite=True, inputs=[photo])
    assert photo.read_bytes() == b"pixels"


def test_a_new_output_folder_is_made_and_a_file_is_not_a_folder(tmp_path):
    assert prepare_output_dir(tmp_path / "a" / "b").is_dir()
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(ExportError, match="not a folder"):
        prepare_output_dir(tmp_path / "file")
