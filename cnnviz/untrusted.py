"""Values that come from files a user hands us (settings, scenes, the saved state).

A number in such a file can be anything JSON allows: 5000 digits, ``1e999``, a 400-digit
weight variance. :class:`HugeNumber` stands in for an integer too long to be any setting, so
the parser never converts it (Python refuses integers of more than 4300 digits) and the
validation that follows names the field; :func:`brief` shows a value in one short line.
"""

from __future__ import annotations

import math
from typing import Any

HUGE_DIGITS = 20  # more digits than any setting allows (seeds are below 2**63, 19 digits)


class HugeNumber(int):
    """An integer literal of more than :data:`HUGE_DIGITS` digits, read as +-10**20.

    It compares larger than every limit (so each range check refuses it) and prints as
    "a 5000-digit number" rather than the digits.
    """

    digits: int

    def __new__(cls, literal: str) -> HugeNumber:
        negative = literal.startswith("-")
        self = super().__new__(cls, -(10**HUGE_DIGITS) if negative else 10**HUGE_DIGITS)
        self.digits = len(literal.lstrip("+-"))
        return self

    def __repr__(self) -> str:
        return f"a {self.digits}-digit number"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec if spec and not spec[-1:].isalpha() else "")


def parse_int(literal: str) -> int:
    """``json.loads``'s ``parse_int``: an int, or a :class:`HugeNumber` for a very long literal."""
    if len(literal.lstrip("+-")) > HUGE_DIGITS:
        return HugeNumber(literal)
    return int(literal)


def is_huge(value: Any) -> bool:
    """True for an int no setting can hold (more than :data:`HUGE_DIGITS` digits)."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**HUGE_DIGITS


def brief(value: Any, width: int = 60) -> str:
    """``value`` in at most ``width`` characters: huge integers by their number of digits."""
    if isinstance(value, HugeNumber):
        return repr(value)
    if is_huge(value):
        return f"a {int(abs(value).bit_length() * math.log10(2)) + 1}-digit number"
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # repr of an int over 4300 digits, or very deep nesting
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= width else text[: width - 1] + "…"


def clip(text: str, width: int = 80) -> str:
    """``text`` cut to ``width`` characters (an unknown field's name can be a megabyte long)."""
    return text if len(text) <= width else text[: width - 1] + "…"
