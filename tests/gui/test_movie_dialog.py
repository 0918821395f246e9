"""File > Export movie: the dialog proposes a sweep of what the mode's keys act on, makes the movie
off the GUI thread with a progress dialog, and a cancel leaves no file."""

from __future__ import annotations

import av
import pytest

from cnnviz.export import movie
from cnnviz.gui import export_dialog, movie_dialog

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def _dialog(qtbot, window, tmp_path):
    export_dialog._Memory.folder = tmp_path / "out"  # tmp_path also holds the window's config
    export_dialog._Memory.folder.mkdir()
    d = movie_dialog.MovieDialog(window)
    qtbot.addWidget(d)
    return d


def test_file_export_movie_is_in_the_menu_and_proposes_a_sweep_of_the_init_variance(main_window, qtbot, tmp_path):
    w = main_window
    assert "Export movie…" in [a.text() for a in w.menuBar().actions()[0].menu().actions()]
    d = _dialog(qtbot, w, tmp_path)
    assert d.field.currentData() == "init"
    assert d.log.currentIndex() == 1 and d.steps.value() == 41
    assert d.path.text() == str(tmp_path / "out" / "pyramid_he_d3_J8_s0_n64_sweep-init.mp4")
    v = w.settings.init_var("init")
    sweep = movie.parse_sweep(
        movie_dialog.sweep_spec("init", d.start_edit.text(), d.stop_edit.text(), d.steps.value(), True), w.settings
    )
    assert sweep.values[0] == pytest.approx(v / 100, rel=1e-2) and sweep.values[-1] == pytest.approx(v * 100, rel=1e-2)
    d.format.setCurrentText("gif")
    assert d.path.text().endswith("_sweep-init.gif")


def test_the_dialog_writes_the_movie_off_the_gui_thread(main_window, qtbot, tmp_path):
    d = _dialog(qtbot, main_window, tmp_path)
    d.field.setCurrentIndex(d.field.findData("seed"))
    d.start_edit.setText("0")
    d.stop_edit.setText("2")
    d.steps.setValue(3)
    d.log.setCurrentIndex(0)
    d.frame_size.setCurrentText("320x180")
    with qtbot.waitSignal(d.finished_movie, timeout=60_000) as got:
        assert d.start()
    path = got.args[0]
    assert path == tmp_path / "out" / "pyramid_he_d3_J8_s0_n64_sweep-seed.mp4"
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 3 and frames[0].shape == (180, 320, 3)
    assert movie.read_movie_stamp(path).settings.seed == main_window.settings.seed


def test_cancel_leaves_no_file(main_window, qtbot, tmp_path):
    d = _dialog(qtbot, main_window, tmp_path)
    d.field.setCurrentIndex(d.field.findData("seed"))
    d.start_edit.setText("0")
    d.stop_edit.setText("50")
    d.steps.setValue(51)
    d.frame_size.setCurrentText("320x180")
    with qtbot.waitSignal(d.finished_movie, timeout=60_000) as got:
        assert d.start()
        qtbot.waitUntil(lambda: d.progress_dialog.value() >= 1, timeout=30_000)
        d.progress_dialog.canceled.emit()  # what its Cancel button sends
    assert got.args[0] is None
    assert "no file" in d.status.text()
    assert list((tmp_path / "out").iterdir()) == []


def test_a_bad_range_is_one_line_in_the_dialog(main_window, qtbot, tmp_path):
    d = _dialog(qtbot, main_window, tmp_path)
    d.field.setCurrentIndex(d.field.findData("depth"))
    d.stop_edit.setText("12")
    assert not d.start()
    assert "depth" in d.error and d.progress_dialog is None
    assert list((tmp_path / "out").iterdir()) == []


def test_with_a_clip_open_the_dialog_makes_the_movie_of_its_frames(main_window, qtbot, tmp_path, monkeypatch):
    from cnnviz.paths import SAMPLE_VIDEO

    assert main_window.open_file(str(SAMPLE_VIDEO))
    real = movie.clip_frames
    monkeypatch.setattr(
        movie, "clip_frames", lambda scene, video, size, indices=None, **kw: real(scene, video, size, range(3), **kw)
    )
    d = _dialog(qtbot, main_window, tmp_path)
    d.what.setCurrentIndex(d.what.findData(movie_dialog.CLIP))
    assert not d.field.isEnabled() and d.fps.value() == 25
    assert d.path.text().endswith("_clip-chelsea_zoom.mp4")
    d.frame_size.setCurrentText("320x180")
    with qtbot.waitSignal(d.finished_movie, timeout=60_000) as got:
        assert d.start()
    with av.open(str(got.args[0])) as c:
        assert len(list(c.decode(video=0))) == 3
