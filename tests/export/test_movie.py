"""Movies: a sweep of 5 values is an MP4 (and a GIF) of 5 frames of the chosen size, each different,
stamped with the scene; a cancel leaves no file; a bad sweep is refused naming its field; the CLI
writes a sweep and a clip movie."""

from __future__ import annotations

import io
import threading

import av
import numpy as np
import pytest
from PIL import Image

from cnnviz.cli import main
from cnnviz.errors import CnnvizError, SettingsError
from cnnviz.export import live, movie
from cnnviz.paths import RESOURCES
from cnnviz.scene import Scene, SourceRef
from cnnviz.settings import Settings

SMALL = Settings(size=64, depth=3, channels=4)
SIZE = (320, 180)
CLIP = RESOURCES / "chelsea_zoom.mp4"


@pytest.fixture(scope="module")
def frame():
    return np.random.default_rng(3).random((64, 64, 3), dtype=np.float32)


def _scene() -> Scene:
    return Scene(settings=SMALL, source=SourceRef(name="noise.png"))


def _decode(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _all_different(frames: list[np.ndarray]) -> bool:
    return all(not np.array_equal(a, b) for i, a in enumerate(frames) for b in frames[i + 1 :])


@pytest.mark.parametrize("spec", ["init=1e-2:10:log:4", "depth=1:3", "activation=relu,tanh"])
def test_frames_drawn_with_kept_figures_are_the_frames_drawn_from_scratch(frame, monkeypatch, spec):
    # a movie builds each figure once and redraws only what moves; a fresh drawer per frame builds all
    sweep = movie.parse_sweep(spec, SMALL)
    kept = list(movie.sweep_frames(_scene(), sweep, frame, SIZE))
    draw = live.FrameDrawer.draw
    monkeypatch.setattr(
        live.FrameDrawer, "draw", lambda self, *a, **k: draw(live.FrameDrawer(self.size, self.ylims), *a, **k)
    )
    fresh = list(movie.sweep_frames(_scene(), sweep, frame, SIZE))
    assert len(kept) == len(sweep.values) and all(np.array_equal(a, b) for a, b in zip(kept, fresh))
    assert _all_different(kept)


def test_a_clips_curves_keep_their_axes_while_the_curves_fit():
    panel = live.Panel("variance", hold=True)
    series = [(0, np.arange(3), np.array([1.0, 10.0, 100.0]), np.array([1.0, 10.0, 100.0]))]
    first = panel._ylim(series)
    assert first[0] < 1.0 and first[1] > 100.0
    panel.ylim = first
    assert panel._ylim([(0, np.arange(3), np.array([1.5, 12.0, 90.0]), None)]) == first
    moved = panel._ylim([(0, np.arange(3), np.array([1.0, 10.0, 1e4]), None)])
    assert moved != first and moved[1] > 1e4


def test_a_sweep_of_five_values_is_an_mp4_of_five_different_frames_stamped(tmp_path, frame):
    sweep = movie.parse_sweep("init=1e-3:10:log:5", SMALL)
    assert sweep.values == pytest.approx((1e-3, 1e-2, 1e-1, 1.0, 10.0))
    path = tmp_path / "sweep.mp4"
    movie.write_movie(path, movie.sweep_frames(_scene(), sweep, frame, SIZE), 5, _scene(), about=sweep.to_dict())
    frames = _decode(path)
    assert len(frames) == 5
    assert all(f.shape == (SIZE[1], SIZE[0], 3) for f in frames)
    assert _all_different(frames)
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
    assert movie.read_movie_stamp(path).settings == SMALL


def test_a_sweep_as_gif_has_five_frames_of_the_size_each_different_and_the_stamp(tmp_path, frame):
    sweep = movie.parse_sweep("depth=1:3", SMALL.replace(size=64))
    assert sweep.values == (1, 2, 3)
    sweep = movie.parse_sweep("seed=0:4", SMALL)
    path = tmp_path / "sweep.gif"
    movie.write_movie(path, movie.sweep_frames(_scene(), sweep, frame, SIZE), 5, _scene(), fps=4)
    with Image.open(path) as im:
        assert (im.n_frames, im.size) == (5, SIZE)
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB")))
    assert _all_different(frames)
    assert movie.read_movie_stamp(path).settings == SMALL


def test_the_frame_shows_the_swept_value_legibly():
    assert movie.value_text("init", 0.0316) == r"$\sigma_w^2$ = 0.0316"
    assert movie.value_text("depth", 5) == "depth $L$ = 5"
    assert movie.value_text("activation", "tanh") == "activation = tanh"


@pytest.mark.parametrize("fmt", ["mp4", "gif"])
def test_a_cancelled_movie_leaves_no_file_no_thread_and_keeps_an_old_one(tmp_path, frame, fmt):
    sweep = movie.parse_sweep("seed=0:4", SMALL)

    class Stop(Exception):
        pass

    def progress(i, n):
        if i == 3:
            raise Stop

    path = tmp_path / f"m.{fmt}"
    with pytest.raises(Stop):
        movie.write_movie(path, movie.sweep_frames(_scene(), sweep, frame, SIZE), 5, _scene(), progress=progress)
    assert list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("cnnviz-movie")]
    path.write_bytes(b"an older movie")
    with pytest.raises(Stop):
        movie.write_movie(path, movie.sweep_frames(_scene(), sweep, frame, SIZE), 5, _scene(), progress=progress)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert path.read_bytes() == b"an older movie"


@pytest.mark.parametrize(
    "spec, named",
    [
        ("initt=1:2", "'initt'"),
        ("mode=pyramid,init", "'mode'"),
        ("init=1e-3:x:log", "init"),
        ("init=0:1:log", "init"),
        ("depth=1:9", "depth"),
        ("depth=1.5:3", "depth"),
        ("kernel=3:3", "kernel"),
        ("channels=1:8:1", "channels"),
        ("activation=relu,softmax", "activation"),
        ("init", "'init'"),
    ],
)
def test_a_bad_sweep_is_refused_in_one_line_naming_the_field(spec, named):
    with pytest.raises(SettingsError) as err:
        movie.parse_sweep(spec, SMALL)
    assert named in str(err.value) and "\n" not in str(err.value)


def test_frame_sizes_are_even_and_bounded():
    assert movie.parse_frame_size("641x361") == (640, 360)
    with pytest.raises(SettingsError, match="frame-size"):
        movie.parse_frame_size("10x10")


def _cli(*argv) -> tuple[int, str]:
    err = io.StringIO()
    return main(["export", *argv], io.StringIO(), err), err.getvalue()


def test_cli_sweep_writes_a_stamped_mp4_with_a_progress_line(tmp_path):
    out = tmp_path / "slides"
    code, err = _cli(
        "--sweep", "init=1e-2:1:log:3", "--size", "64", "--depth", "3", "--channels", "4",
        "--frame-size", "320x180", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    (path,) = out.iterdir()
    assert path.name == "pyramid_he_d3_J4_s0_n64_sweep-init.mp4"
    assert "[3/3]" in err
    assert len(_decode(path)) == 3
    assert movie.read_movie_stamp(path).settings.depth == 3


def test_cli_bad_sweep_is_one_line_naming_the_field_and_writes_nothing(tmp_path):
    code, err = _cli("--sweep", "dept=1:3", "--out", str(tmp_path / "o"))
    assert code != 0 and "'dept'" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
    code, err = _cli("--movie", "--out", str(tmp_path / "o.mp4"))  # the sample is an image
    assert code != 0 and "--movie needs a video" in err


def test_cli_clip_movie_has_one_frame_per_clip_frame(tmp_path, monkeypatch):
    # the first 4 frames only, to keep the test short: the clip path is the same for 100
    real = movie.clip_frames
    monkeypatch.setattr(
        movie, "clip_frames", lambda scene, video, size, indices=None, **kw: real(scene, video, size, range(4), **kw)
    )
    out = tmp_path / "clip.gif"
    code, err = _cli(str(CLIP), "--movie", "--size", "64", "--depth", "3", "--frame-size", "200x160", "--out", str(out))
    assert code == 0, err
    with Image.open(out) as im:
        assert (im.n_frames, im.size) == (4, (200, 160))
    scene = movie.read_movie_stamp(out)
    assert scene.source is not None and scene.source.name == CLIP.name


def test_write_movie_refuses_other_formats(tmp_path):
    with pytest.raises(CnnvizError, match="mp4 or gif"):
        movie.write_movie(tmp_path / "m.avi", iter([]), 0, _scene())


def test_a_sweeps_curves_keep_one_y_axis_that_holds_every_frame(frame):
    from cnnviz.core.engine import run

    sweep = movie.parse_sweep("init=1e-2:1:log:3", SMALL)
    lims = movie.sweep_limits(_scene(), sweep, frame)
    for s in sweep.settings(SMALL):
        var = run(s, frame).pyramid.grid("var")
        var = var[np.isfinite(var) & (var > 0)]
        assert lims["variance"][0] <= var.min() and var.max() <= lims["variance"][1]


def test_a_sweep_of_the_input_size_fits_the_frame_to_each_size(tmp_path):
    big = np.random.default_rng(4).random((128, 128, 3), dtype=np.float32)
    sweep = movie.parse_sweep("size=64:128", SMALL)
    assert sweep.values == (64, 128)
    frames = list(movie.sweep_frames(_scene(), sweep, big, SIZE))
    assert len(frames) == 2 and not np.array_equal(*frames)


def test_a_drawer_keeps_its_figures_and_banner_between_frames_of_any_size(frame):
    from cnnviz.core.engine import run

    drawer = live.FrameDrawer((640, 476))  # a banner 57 px high: 0.57 in at 100 dpi is not exactly 57 px
    result = run(SMALL, frame, profile=movie.MOVIE_PROFILE)
    first = drawer.draw(result, _scene(), text="a", note="1/2", position=0.0).copy()
    banner, builds = drawer.banner, drawer.builds
    second = drawer.draw(result, _scene(), text="b", note="2/2", position=1.0)
    assert drawer.banner is banner and drawer.builds == builds == 3
    assert first.shape == (476, 640, 3) and not np.array_equal(first, second)
