"""The ``cnnviz`` command: the window, ``stats`` and the exports, all through Settings -> Result.

    cnnviz [FILE | --camera [N]] [settings flags] [--mode M] [--reset] [--screenshot OUT.png] [--window-size WxH]
    cnnviz stats [IMAGE|VIDEO] [settings flags] [--json]
    cnnviz export [IMAGE|VIDEO] [settings flags] --out DIR [--mode M] [--formats LIST] [--scale X]

A user's mistake (a bad file, a contradictory flag) is one line on stderr and a non-zero exit;
a traceback is a bug.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any, TextIO, cast

from . import __version__
from .errors import CnnvizError, SettingsError
from .settings import ACTIVATIONS, DEVICES, INIT_RULES, MODES, RESIDUAL_INPUTS, Settings, log2_size

DEFAULT_DEPTH = Settings().depth
SCREENSHOT_HELP = (
    "render the window offscreen from the defaults plus these flags, save it and exit; the extension "
    "names the format (.png, .jpg, .webp, or any other Qt writes). An existing OUT is replaced "
    "atomically (the old file stays whole if writing fails); OUT is never one of the command's "
    "inputs (FILE, --settings)"
)


class UsageError(SettingsError):
    """A flag argparse cannot parse: exit code 2, like argparse's own."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line (no usage dump) through main()."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # `--frame` must never be read as `--frames`
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _settings_flags() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    g = p.add_argument_group("network settings")
    g.add_argument("--settings", metavar="FILE.json", help="start from saved settings (JSON); flags override them")
    g.add_argument("--size", type=int, metavar="N", help="input size, a power of two from 32 to 2048 (default 256)")
    g.add_argument(
        "--depth",
        type=int,
        metavar="L",
        help=f"levels (default {DEFAULT_DEPTH}, at most log2 N; the residual stack up to 100)",
    )
    g.add_argument("--channels", type=int, metavar="J", help="feature channels J (default 16)")
    g.add_argument("--kernel", type=int, metavar="D", help="filter size D, odd (default 3)")
    g.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        help="activation (default relu; identity for the residual stack, as in the seed)",
    )
    init = g.add_mutually_exclusive_group()
    init.add_argument("--init-var", type=float, metavar="V", help="weight variance sigma_w^2, a number >= 0")
    init.add_argument(
        "--init",
        choices=INIT_RULES,
        help="initialisation rule: lecun 1/fan_in, he 2/fan_in, residual ln2/(L D^2 J) (default he)",
    )
    g.add_argument("--unshared", action="store_true", help="one filter pair per scale (breaks scale equivariance)")
    g.add_argument("--residual", action="store_true", help="Problem 5's residual stack instead of the pyramid network")
    g.add_argument("--residual-input", choices=RESIDUAL_INPUTS, help="what the residual stack sees (default noise)")
    g.add_argument("--noise-size", type=int, metavar="N", help="side of the residual stack's noise input (default 64)")
    g.add_argument("--seed", type=int, metavar="N", help="weight seed (default 0)")
    g.add_argument("--device", choices=DEVICES, help="where torch runs (default auto: cuda, mps, then cpu)")
    u = p.add_argument_group("single unit (Problem 4, the init lab)")
    unit_init = u.add_mutually_exclusive_group()
    unit_init.add_argument("--unit-init-var", type=float, metavar="V", help="the unit's weight variance sigma_w^2")
    unit_init.add_argument("--unit-init", choices=("lecun", "he"), help="the unit's init rule (default lecun)")
    u.add_argument("--unit-dim", type=int, metavar="d", help="the unit's number of inputs d (default 100)")
    u.add_argument("--unit-activation", choices=ACTIVATIONS, help="the unit's activation (default sigmoid)")
    return p


def settings_from_args(args: argparse.Namespace, mode: str | None = None) -> Settings:
    """Defaults (or ``--settings FILE``, a scene) with the flags applied; raises SettingsError.

    Flags land on what the chosen mode shows: in the init lab (``--mode init``) and with
    ``--residual``, ``--depth``, ``--activation`` and ``--init-var``/``--init`` set the residual
    stack; elsewhere the pyramid network. The single unit has its own ``--unit-*`` flags.
    """
    base = Settings.load(args.settings) if getattr(args, "settings", None) else Settings()
    if args.size is not None:  # the new size first, so that `--size 1024 --depth 10` is checked against it
        base = base.with_size(args.size)
    if args.unshared and args.residual:
        raise SettingsError("--unshared applies to the pyramid network, not to --residual")
    changes: dict = {}
    for name in ("channels", "kernel", "seed", "device", "noise_size", "residual_input", "unit_dim", "unit_activation"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if mode is not None:
        changes["mode"] = mode
    if args.unshared:
        changes["shared"] = False
    unit_init = (
        args.unit_init_var if getattr(args, "unit_init_var", None) is not None else getattr(args, "unit_init", None)
    )
    if unit_init is not None:
        changes["unit_init"] = unit_init
    init = args.init_var if args.init_var is not None else args.init
    stack = args.residual or changes.get("mode", base.mode) == "init"
    if args.residual:
        changes["residual"] = True
    if stack:
        for flag, field in (("depth", "residual_depth"), ("activation", "residual_activation")):
            if getattr(args, flag) is not None:
                changes[field] = getattr(args, flag)
        if init is not None:
            changes["residual_init"] = init
    else:
        if args.activation is not None:
            changes["activation"] = args.activation
        if init is not None:
            changes["init"] = init
        if args.depth is not None:
            size = args.size if args.size is not None else base.size
            k = log2_size(size) if size > 0 else 0
            if args.depth > k > 0:
                raise SettingsError(f"--depth {args.depth} is more than log2 of the size {size} ({k})")
            changes["depth"] = args.depth
    settings = base.replace(**changes)
    if args.size is not None:
        depth = settings.depth if stack or args.depth is None else args.depth
        settings = settings.with_size(args.size).replace(depth=min(depth, log2_size(args.size)))
    return settings


def _window_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="cnnviz",
        parents=[_settings_flags()],
        description="See inside a scale-shared CNN. `cnnviz stats --help` for the per-layer table.",
    )
    p.add_argument("file", nargs="?", help="image or video to open (default: the bundled sample)")
    p.add_argument(
        "--camera",
        nargs="?",
        const="0",
        metavar="N",
        help="show camera N live (0, the default, is the first in File > Camera; or a device such as /dev/video2)",
    )
    p.add_argument(
        "--mode",
        choices=MODES,
        help="pyramid (Problem 3), init lab (Problems 4, 5), cost (Problem 1) or video-net (Problem 2)",
    )
    p.add_argument("--frame", type=int, metavar="N", help="open a video on frame N (0-based; default 0)")
    p.add_argument("--reset", action="store_true", help="forget the saved window state and start as on a first launch")
    p.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help=SCREENSHOT_HELP,
    )
    p.add_argument("--window-size", metavar="WxH", help="window size for --screenshot (default 1600x900)")
    lec = p.add_argument_group("lecture")
    lec.add_argument("--lecture", action="store_true", help="open the course deck in full screen (PgDn/PgUp walk it)")
    lec.add_argument("--deck", metavar="FILE.json", help="open a lecturer's own deck (a cnnviz-deck JSON file)")
    lec.add_argument(
        "--lecture-step", type=int, metavar="N", help="start at step N (1-based); with --screenshot, render it"
    )
    p.add_argument("--version", action="version", version=f"cnnviz {__version__}")
    return p


def _stats_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="cnnviz stats",
        parents=[_settings_flags()],
        description="Print the per-layer table: measured statistics beside the theory.",
    )
    p.add_argument("file", nargs="?", help="image or video (default: the bundled sample image)")
    p.add_argument("--json", action="store_true", help="strict JSON instead of the table (NaN/inf become null)")
    try:
        from .cli_video import add_video_arguments
    except ImportError:  # pragma: no cover - video support is optional at import time
        pass
    else:
        add_video_arguments(p)
    return p


def _window_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SettingsError(f"--window-size must look like 1600x900, not {text!r}") from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise SettingsError(f"--window-size must be between 200x200 and 8000x8000, not {text}")
    return w, h


def cmd_stats(argv: list[str], out: TextIO, err: TextIO) -> int:
    args = _stats_parser().parse_args(argv)
    settings = settings_from_args(args)
    from .core.device import configure_threads

    configure_threads()
    from .io.video import is_video

    if args.file and is_video(args.file) and not settings.residual:
        from .cli_video import stats_video

        return stats_video(args.file, settings, args, out=out, err=err)
    from .core.engine import run
    from .io.images import load_image
    from .paths import SAMPLE_IMAGE

    est = check_budget(settings)
    note_budget(est, err)
    frame, source = None, "noise"
    if not (settings.residual and settings.residual_input == "noise"):
        path = args.file or SAMPLE_IMAGE
        frame, info = load_image(path, settings.size)
        source = f"{Path(path).name}: {info.describe()}"
    # numbers only, but the JSON keeps the equivariance readout it has always had
    done = [0.0]  # the engine's progress, for the waiting line

    def report(fraction: float) -> None:
        done[0] = fraction

    result = interruptible(
        lambda cancel: run(
            settings, frame, source=source, profile="stats", equivariance=True, cancel=cancel, progress=report
        ),
        err,
        seconds=est.seconds,
        progress=lambda: done[0],
    )
    from .report import layer_table, result_to_dict, strict_json

    text = strict_json(result_to_dict(result)) if args.json else layer_table(result)
    out.write(text + "\n")
    out.flush()
    return 0


def check_budget(settings: Settings, est=None):
    """``cnnviz.core.budget.check`` on the device the settings pick: BudgetError (one line) for
    settings that cannot fit in the memory there is; else the estimate."""
    from .core import budget
    from .core.device import pick_device

    device, _ = pick_device(settings.device)
    return budget.check(settings, str(device), est)


def note_budget(est, err: TextIO, times: int = 1) -> None:
    """One line on ``err`` before a run the estimate says will be long (``times`` runs of ``est``)."""
    from .core.budget import LONG_RUN_S, format_bytes

    seconds = est.seconds * times
    if seconds > LONG_RUN_S:
        minutes = f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
        err.write(
            f"cnnviz: note: {est.what}: about {est.multiplies * times:.2g} multiplies and "
            f"{format_bytes(est.bytes)} of memory, roughly {minutes} here; Ctrl+C stops it\n"
        )
        err.flush()


def interruptible(fn, err: TextIO, *, seconds: float = 0.0, progress=None):
    """``fn(cancel)`` on a helper thread, so that Ctrl+C or SIGTERM stops the command at once even
    while torch is inside a long convolution (Python handles signals only between bytecodes of
    the main thread). ``cancel()`` turns True when interrupted. Then one line is said and the
    process exits 130 or 143 at once (torch's threads, left mid-computation, must not meet the
    interpreter's exit: that aborts).
    ``seconds``: the estimated time; when it is long and ``err`` is a terminal, the elapsed time
    is shown on one self-erasing line while waiting, with ``progress()`` (the fraction done) when given."""
    import threading

    from .interrupt import Interrupted, exit_code

    stop = threading.Event()
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn(stop.is_set)
        except BaseException as e:  # handed to the main thread
            box["error"] = e

    worker = threading.Thread(target=target, name="cnnviz-compute", daemon=True)
    worker.start()
    import time

    from .core.budget import LONG_RUN_S

    show = seconds > LONG_RUN_S and bool(getattr(err, "isatty", lambda: False)())
    start = time.monotonic()
    try:
        while worker.is_alive():
            worker.join(0.1 if not show else 1.0)
            if show and worker.is_alive():
                part = f"{progress():.0%} after " if progress is not None else ""
                err.write(
                    f"\rcomputing: {part}{time.monotonic() - start:.0f} s of roughly {seconds:.0f} s (Ctrl+C stops)\033[K"
                )
                err.flush()
    except KeyboardInterrupt as e:
        stop.set()
        worker.join(0.5)
        if show:
            err.write("\r\033[K")
        err.write(f"cnnviz: {e.line if isinstance(e, Interrupted) else 'interrupted'}\n")
        err.flush()
        os._exit(exit_code(e))
    finally:
        if show:
            err.write("\r\033[K")
            err.flush()
    if "error" in box:
        raise box["error"]
    return box["value"]


def cmd_window(argv: list[str], err: TextIO) -> int:
    args = _window_parser().parse_args(argv)
    size = _window_size(args.window_size)
    if args.window_size and not args.screenshot:
        raise SettingsError("--window-size applies to --screenshot")
    explicit = any(a.startswith("--") and a not in ("--reset", "--camera") for a in argv)
    settings = settings_from_args(args, mode=args.mode)
    if args.file and not Path(args.file).exists():
        raise CnnvizError(f"{args.file}: no such file")
    deck, index = _deck_from_args(args)
    if deck is not None:
        settings = deck.steps[index].scene.settings
    if args.screenshot:  # the engine refuses these too; saying it before the window is built is quicker
        check_budget(settings.replace(mode="init", residual=False) if settings.residual else settings)
    camera = None
    if args.camera is not None:
        if args.file:
            raise SettingsError("give a file or --camera, not both")
        if deck is not None:
            raise SettingsError("--camera cannot be combined with a lecture deck (its steps choose the picture)")
        if args.screenshot:
            raise SettingsError("--screenshot renders a file or the sample picture, not a live camera")
        from .io.camera import find_camera

        camera = find_camera(args.camera)  # "no camera found (why)" before any window opens
    if args.frame is not None:
        from .io.video import is_video

        if not (args.file and is_video(args.file)):
            raise SettingsError("--frame applies to a video FILE")
        if args.frame < 0:
            raise SettingsError(f"--frame must be 0 or more, not {args.frame}")
    from .gui.app import launch

    if deck is not None:
        return launch(
            file=args.file,
            settings=settings,
            reset=args.reset,
            screenshot=args.screenshot,
            window_size=size,
            deck=deck,
            deck_index=index,
            inputs=(args.settings, args.deck),
        )
    # The screenshot is reproducible: defaults plus flags, never the saved state. A normal
    # launch restores the saved state unless flags were given.
    use = settings if (args.screenshot or explicit) else None
    return launch(
        file=args.file,
        settings=use,
        reset=args.reset,
        screenshot=args.screenshot,
        window_size=size,
        inputs=(args.settings,),
        camera=camera,
        frame=args.frame,
    )


class OutputError(CnnvizError):
    """Standard output cannot take what a command prints (closed, full, a device error)."""


class _Output:
    """The command's standard output: a write that fails (``> /dev/full``, ``>&-``) becomes one
    :class:`OutputError` line, said once; a closed pipe (``| head``) stays a BrokenPipeError."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.failed = False

    def _fail(self, why: str) -> None:
        if self.failed:
            return
        self.failed = True
        raise OutputError(f"cannot write to standard output: {why}")

    def write(self, text: str) -> int:
        if self.failed:
            return len(text)
        if self.stream is None:
            self._fail("it is closed")
        try:
            return self.stream.write(text)  # type: ignore[union-attr]
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as err:  # ValueError: a closed file object
            self._fail(getattr(err, "strerror", None) or str(err))
        return len(text)

    def flush(self) -> None:
        if self.failed or self.stream is None:
            return
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as err:
            self._fail(getattr(err, "strerror", None) or str(err))

    def isatty(self) -> bool:
        try:
            return bool(self.stream is not None and self.stream.isatty())
        except (OSError, ValueError):
            return False


def _discard_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so the interpreter's final flush of what could not
    be written does not print a second error (Python's documented recipe for broken pipes)."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError, AttributeError):
        pass


def _deck_from_args(args: argparse.Namespace):
    """(deck, step index) for --lecture / --deck / --lecture-step, or (None, 0); SettingsError in one line."""
    if not (args.lecture or args.deck or args.lecture_step is not None):
        return None, 0
    from .deck import bundled_deck_path, load_deck, step_index

    deck = load_deck(args.deck or bundled_deck_path())
    number = 1 if args.lecture_step is None else args.lecture_step
    try:
        return deck, step_index(deck, number)
    except SettingsError as err:
        raise SettingsError(f"--lecture-step {number}: {err}") from None


def limit_native_threads() -> None:
    """Give OpenMP (torch's kernels) and OpenBLAS (numpy) the thread count torch gets
    (``core.device.torch_threads``: CNNVIZ_TORCH_THREADS, else all cores but one), unless the user
    set OMP_NUM_THREADS. The pools read it once, when torch or numpy loads, so this runs first:
    ``torch.set_num_threads`` on the worker alone left other pools spinning on the spare core, and
    window playback at 512^2 ran at half the speed (bench_video.py --window, 2-core host)."""
    env = os.environ.get("CNNVIZ_TORCH_THREADS", "")
    n = int(env) if env.isdigit() and int(env) > 0 else max(1, (os.cpu_count() or 2) - 1)
    os.environ.setdefault("OMP_NUM_THREADS", str(n))


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    limit_native_threads()
    from . import interrupt

    argv = list(sys.argv[1:] if argv is None else argv)
    real_stdout = out is None
    stdout = _Output(sys.stdout if out is None else out)
    err = err or sys.stderr or open(os.devnull, "w")  # noqa: SIM115 - stderr closed: nowhere to say it
    with interrupt.handled(), warnings.catch_warnings():
        # numpy's floating-point warnings (an overflow the statistics already report) are not for the console
        warnings.filterwarnings("ignore", category=RuntimeWarning, message=".*encountered in")
        try:
            if argv and argv[0] == "stats":
                code = cmd_stats(argv[1:], cast(TextIO, stdout), err)
                stdout.flush()
                return code
            if argv and argv[0] == "export":
                from .cli_export import cmd_export

                code = cmd_export(argv[1:], cast(TextIO, stdout), err)
                stdout.flush()
                return code
            return cmd_window(argv, err)
        except CnnvizError as e:
            err.write(f"cnnviz: error: {e}\n")
            return 2 if isinstance(e, UsageError) else 1
        except SystemExit as e:  # --help and --version
            return e.code if isinstance(e.code, int) else 0
        except KeyboardInterrupt as e:  # Ctrl+C, and SIGTERM (interrupt.Interrupted)
            err.write(f"cnnviz: {e.line if isinstance(e, interrupt.Interrupted) else 'interrupted'}\n")
            return interrupt.exit_code(e)
        except BrokenPipeError:  # `cnnviz stats | head` is fine
            if real_stdout:
                _discard_stdout()
            return 0
        except MemoryError:
            err.write("cnnviz: error: out of memory: choose a smaller size, fewer channels or a smaller depth\n")
            return 1
        finally:
            if real_stdout and stdout.failed:
                _discard_stdout()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
