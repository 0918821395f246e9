"""Undo and redo over settings: one gesture is one step."""

from __future__ import annotations

from cnnviz.history import History
from cnnviz.settings import Settings


def _feed(h: History, steps, t0=0.0, dt=0.05):
    """Record a chain of settings changes ``dt`` seconds apart; return the last settings."""
    cur, t = steps[0], t0
    for nxt in steps[1:]:
        h.record(cur, nxt, now=t)
        cur, t = nxt, t + dt
    return cur


def test_a_quick_run_of_one_field_is_one_step_and_undo_redo_walk_it():
    s0 = Settings()
    chain = [s0.replace(depth=d) for d in (6, 5, 4, 3)]
    h = History()
    _feed(h, chain)
    assert len(h) == 1
    assert h.undo() == s0.replace(depth=6)
    assert h.undo() is None
    assert h.redo() == s0.replace(depth=3)
    assert h.redo() is None


def test_a_pause_or_another_field_starts_a_new_step():
    s0 = Settings()
    h = History()
    h.record(s0, s0.replace(depth=5), now=0.0)
    h.record(s0.replace(depth=5), s0.replace(depth=4), now=5.0)  # after a pause
    h.record(s0.replace(depth=4), s0.replace(depth=4, channels=8), now=5.1)  # another field
    assert len(h) == 3
    assert h.undo() == s0.replace(depth=4)
    assert h.undo() == s0.replace(depth=5)
    assert h.undo() == s0


def test_a_drag_is_one_step_however_long_it_takes():
    s0 = Settings()
    h = History()
    h.begin_group()
    _feed(h, [s0.replace(init=v) for v in ("he", 0.01, 0.02, 0.05, 0.1)], dt=2.0)
    h.end_group()
    h.record(s0.replace(init=0.1), s0.replace(init=0.2), now=8.1)  # right after release: new step
    assert len(h) == 2
    assert h.undo() == s0.replace(init=0.1)
    assert h.undo() == s0


def test_a_new_change_clears_redo_and_replaying_is_not_recorded():
    s0 = Settings()
    h = History()
    h.record(s0, s0.replace(seed=1), now=0)
    assert h.undo() == s0
    with h.replaying():
        h.record(s0.replace(seed=1), s0, now=1)
    assert h.can_redo and not h.can_undo
    h.record(s0, s0.replace(seed=2), now=2)
    assert not h.can_redo and h.can_undo
    h.record(s0.replace(seed=2), s0.replace(seed=2), now=3)  # no change, no step
    assert len(h) == 1
