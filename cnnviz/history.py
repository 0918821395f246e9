"""Undo and redo over settings changes, without Qt.

The window feeds every change of its :class:`~cnnviz.settings.Settings` to :meth:`History.record`
(from ``request``, the one path); undo and redo hand back the Settings to request. One gesture
is one step:

- while a group is open (a slider held down: :meth:`begin_group` / :meth:`end_group`) every
  change merges into one entry;
- otherwise a change merges into the previous one when it touches the same fields and follows
  it within ``merge_s`` seconds (a key held down, a wheel turned, a slider moved by keys).

Times are passed in (``now``), so the model is deterministic under test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MERGE_S = 0.6
LIMIT = 500


def changed_fields(before: Any, after: Any) -> frozenset[str]:
    """The names of the fields that differ between two Settings (their ``to_dict``)."""
    a, b = before.to_dict(), after.to_dict()
    return frozenset(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


@dataclass
class _Entry:
    before: Any
    after: Any
    fields: frozenset[str]
    time: float
    sealed: bool = False  # no later change merges into it


class History:
    def __init__(self, merge_s: float = MERGE_S, limit: int = LIMIT) -> None:
        self.merge_s = merge_s
        self.limit = limit
        self._undo: list[_Entry] = []
        self._redo: list[_Entry] = []
        self._group: _Entry | None = None
        self._group_open = False
        self._replaying = False

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def __len__(self) -> int:
        return len(self._undo)

    def record(self, before: Any, after: Any, *, now: float) -> None:
        """A change from ``before`` to ``after`` at time ``now`` (seconds); ignored while replaying."""
        if self._replaying or before == after:
            return
        fields = changed_fields(before, after)
        top = self._undo[-1] if self._undo else None
        self._redo.clear()
        if self._group_open and self._group is not None and top is self._group and top.after == before:
            top.after, top.time = after, now
            top.fields = top.fields | fields
            return
        if (
            not self._group_open
            and top is not None
            and not top.sealed
            and top.after == before
            and top.fields == fields
            and now - top.time <= self.merge_s
        ):
            top.after, top.time = after, now
            return
        entry = _Entry(before, after, fields, now)
        self._undo.append(entry)
        if self._group_open:
            self._group = entry
        del self._undo[: -self.limit]

    def begin_group(self) -> None:
        """Everything recorded until :meth:`end_group` is one step (a slider drag)."""
        self._group_open = True
        self._group = None

    def end_group(self) -> None:
        self._group_open = False
        if self._group is not None:
            self._group.sealed = True
        self._group = None

    def seal(self) -> None:
        """The next change starts a new step, however soon it comes."""
        if self._undo:
            self._undo[-1].sealed = True

    def undo(self) -> Any | None:
        """The Settings to go back to, or None when there is nothing to undo."""
        if not self._undo:
            return None
        entry = self._undo.pop()
        entry.sealed = True
        self._redo.append(entry)
        return entry.before

    def redo(self) -> Any | None:
        if not self._redo:
            return None
        entry = self._redo.pop()
        self._undo.append(entry)
        return entry.after

    @contextlib.contextmanager
    def replaying(self) -> Iterator[None]:
        """Changes made inside (applying an undo or redo) are not recorded."""
        self._replaying = True
        try:
            yield
        finally:
            self._replaying = False
