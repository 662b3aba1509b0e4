"""The small pictures of the web reader, as geometry its templates draw in SVG: who cites whom among a story's
copies, when each was published, and an outlet's articles per day. Labels stay text (the templates escape)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from storage.common.times import as_utc


@dataclass(frozen=True)
class Node:
    """An outlet in the citation picture: its name, position, and whether it carries a copy of the story."""

    name: str
    x: float
    y: float
    has_copy: bool


@dataclass(frozen=True)
class Arrow:
    """ "cites": from the citing outlet towards the cited one, stopping short of both circles."""

    x1: float
    y1: float
    x2: float
    y2: float
    source: str
    target: str


@dataclass(frozen=True)
class CitationPicture:
    width: int
    height: int
    radius: int
    nodes: list[Node]
    arrows: list[Arrow]


def citation_picture(copies: list[str], cites: list[tuple[str, str]], size: int = 320) -> CitationPicture:
    """Outlets on a circle (the copies' first, then outlets only cited), an arrow per distinct citation."""
    names = list(dict.fromkeys([*copies, *(target for _source, target in cites)]))[:12]
    radius = 22
    centre, ring = size / 2, size / 2 - radius - 30
    nodes = []
    for index, name in enumerate(names):
        angle = -math.pi / 2 + 2 * math.pi * index / max(len(names), 1)
        spread = ring if len(names) > 1 else 0
        x, y = centre + spread * math.cos(angle), centre + spread * math.sin(angle)
        nodes.append(Node(name, round(x, 1), round(y, 1), name in copies))
    where = {node.name: node for node in nodes}
    arrows = []
    for source, target in dict.fromkeys(cites):
        if source == target or source not in where or target not in where:
            continue
        a, b = where[source], where[target]
        dx, dy = b.x - a.x, b.y - a.y
        length = math.hypot(dx, dy) or 1
        ux, uy = dx / length, dy / length
        gap = radius + 4
        arrows.append(
            Arrow(round(a.x + ux * gap, 1), round(a.y + uy * gap, 1), round(b.x - ux * (gap + 4), 1),
                  round(b.y - uy * (gap + 4), 1), source, target)
        )  # fmt: skip
    return CitationPicture(size, size, radius, nodes, arrows)


@dataclass(frozen=True)
class Mark:
    """A copy on the timeline: x on the axis, its outlet and time."""

    x: float
    label: str
    when: datetime
    original: bool


def timeline(points: list[tuple[str, datetime, bool]], width: int = 600, margin: int = 40) -> list[Mark]:
    """Publication times placed on a horizontal axis of `width` (the earliest at the left margin)."""
    if not points:
        return []
    times = [as_utc(when) for _label, when, _original in points]
    start, end = min(times), max(times)
    span = (end - start).total_seconds() or 1
    usable = width - 2 * margin
    return [
        Mark(round(margin + usable * (as_utc(when) - start).total_seconds() / span, 1), label, as_utc(when), original)
        for (label, when, original) in points
    ]


@dataclass(frozen=True)
class Bar:
    day: date
    count: int
    x: float
    y: float
    height: float


def day_bars(per_day: list[tuple[date, int]], width: int = 600, height: int = 120) -> tuple[list[Bar], int]:
    """One bar per day scaled to the busiest day; also that day's count (the scale)."""
    busiest = max((count for _day, count in per_day), default=0)
    step = width / max(len(per_day), 1)
    bars = []
    for index, (day, count) in enumerate(per_day):
        tall = (height - 20) * count / busiest if busiest else 0
        bars.append(Bar(day, count, round(index * step, 1), round(height - tall, 1), round(tall, 1)))
    return bars, busiest
