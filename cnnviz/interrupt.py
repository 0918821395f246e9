"""Ctrl+C (SIGINT) and SIGTERM: stop, say so in one line, exit 130 or 143; never a traceback.

:func:`handled` installs handlers that raise :class:`Interrupted` (a KeyboardInterrupt, so
code that already stops cleanly on Ctrl+C, e.g. the video loop's partial result, handles
SIGTERM too). While Qt's event loop runs an exception cannot travel through it, so the window
registers a callback with :func:`deliver_to` instead: the callback asks the loop to quit and
the code after the loop cleans up. (Python runs signal handlers only between bytecodes of the
main thread, so the window also keeps a timer ticking to give it the chance.)
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; :attr:`code` is the exit status a shell expects (128 + signal)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = int(signum)

    @property
    def code(self) -> int:
        return 128 + self.signum

    @property
    def line(self) -> str:
        """The one line to print."""
        return "interrupted" if self.signum == signal.SIGINT else "terminated"


def exit_code(err: BaseException) -> int:
    """130 for Ctrl+C (a plain KeyboardInterrupt too), 143 for SIGTERM."""
    return err.code if isinstance(err, Interrupted) else 128 + signal.SIGINT


_callback: Callable[[int], None] | None = None


def _handler(signum: int, _frame: object) -> None:
    if _callback is not None:
        _callback(signum)
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` inside the block (main thread only; elsewhere
    this does nothing). The previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for sig in SIGNALS:
        try:
            previous[sig] = signal.signal(sig, _handler)
        except (ValueError, OSError):  # pragma: no cover - no signals here (embedded use)
            pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, old)


@contextlib.contextmanager
def deliver_to(callback: Callable[[int], None]) -> Iterator[None]:
    """Inside the block a signal calls ``callback(signum)`` instead of raising (for Qt's loop)."""
    global _callback
    previous, _callback = _callback, callback
    try:
        yield
    finally:
        _callback = previous
