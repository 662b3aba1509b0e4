"""Durations as people write them in sources.toml and on the command line: '90s', '15m', '1h30m', '1w'."""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}  # largest first: the order they are written in
MAX_SECONDS = 100 * 52 * UNITS["w"]  # a century: anything longer is a typo (and overflows a timedelta)
_PART = re.compile(r"\s*(\d+)\s*([a-z])")
_HINT = "a whole number and a unit s, m, h, d or w, largest first, e.g. '90s', '15m', '2h', '1h30m'"


def parse_duration(text: str) -> timedelta:
    """A positive duration such as '90s', '15m', '2h', '1d', '1w' or '1h30m'; ValueError naming `text` otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"not a duration: {text!r} (expected text: {_HINT})")
    source = text.strip().lower()
    if source.startswith("-"):
        raise ValueError(f"not a positive duration: {text!r}")
    parts, pos = [], 0
    while pos < len(source):
        match = _PART.match(source, pos)
        if match is None or match.group(2) not in UNITS:
            raise ValueError(f"not a duration: {text!r} ({_HINT})")
        parts.append((int(match.group(1)), match.group(2)))
        pos = match.end()
    order = [list(UNITS).index(unit) for _, unit in parts]
    if not parts or order != sorted(set(order)):
        raise ValueError(f"not a duration: {text!r} ({_HINT}; each unit once)")
    seconds = sum(number * UNITS[unit] for number, unit in parts)
    if seconds == 0:
        raise ValueError(f"not a positive duration: {text!r}")
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration too long: {text!r} (at most {MAX_SECONDS // UNITS['w']}w)")
    return timedelta(seconds=seconds)


def format_duration(td: timedelta) -> str:
    """The shortest text parse_duration() reads back as `td` (whole seconds; '0s' for zero), e.g. '1h30m'."""
    seconds = int(td.total_seconds())
    if seconds < 0:
        raise ValueError(f"cannot write a negative duration: {td}")
    parts = []
    for unit, size in UNITS.items():
        number, seconds = divmod(seconds, size)
        if number:
            parts.append(f"{number}{unit}")
    return "".join(parts) or "0s"
