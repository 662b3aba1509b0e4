"""newswire's counters in Scrapy's stats collector: the one module that spells the `newswire/…` keys.

Components count through these functions; the run recorder reads the totals back with `run_totals`
and each outlet's counts as a typed `OutletCounts`. Key layout, for anyone reading a stats dump:
`newswire/<what>` for run totals, `newswire/errors/<kind>`, `newswire/skipped/<why>`, and
`newswire/by_outlet/<slug>/<what>` for one outlet's counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

from scrapy.statscollectors import StatsCollector

PREFIX = "newswire/"
BY_OUTLET = f"{PREFIX}by_outlet/"
ERRORS = f"{PREFIX}errors"

# run totals, counted with `count(stats, …)`
NEW, UPDATED, ALREADY_STORED, DUPLICATE_TEXT = "new", "updated", "already_stored", "duplicate_text"
NOT_MODIFIED, CANONICAL_CONFLICT, RETRIES_DELAYED = "not_modified", "canonical_conflict", "retries_delayed"
FOLLOWED_OUTLETS, FOLLOWED_LINKS = "followed_outlets", "followed_links"


@dataclass
class OutletCounts:
    """One outlet's counts in one crawl (stored as the run's `by_outlet` JSON, read by adaptive polling)."""

    requests: int = 0
    listings_ok: int = 0  # feeds, sitemaps or homepages that answered (200 or 304)
    not_modified: int = 0
    new: int = 0
    updated: int = 0
    errors: int = 0
    sitemap_too_deep: int = 0
    last_error: str | None = None  # "<kind>: <url>" of its latest error
    failures: list[dict[str, str]] | None = None  # its latest FAILURES_KEPT failures: kind, url, at (ISO 8601)
    poll_hint: int | None = None  # the smallest refresh interval its listings asked for, in seconds (0: none)
    retry_after: float | None = None  # the longest Retry-After it sent, in seconds

    def as_json(self) -> dict[str, Any]:
        """The counts that were set (zeros and unset values left out, as in a stats dump)."""
        return {k: v for k, v in asdict(self).items() if v is not None and (v != 0 or k == "poll_hint")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutletCounts:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


OUTLET_FIELDS = frozenset(f.name for f in fields(OutletCounts))


def _outlet_key(slug: str, what: str) -> str:
    if what not in OUTLET_FIELDS:
        raise ValueError(f"not a per-outlet count: {what!r}")
    return f"{BY_OUTLET}{slug}/{what}"


def count(stats: StatsCollector, what: str, value: int = 1, *, outlet: str | None = None) -> None:
    """Add `value` to the run's `what` total and, when it is a per-outlet count, to the outlet's."""
    stats.inc_value(f"{PREFIX}{what}", value)
    if outlet and what in OUTLET_FIELDS:
        stats.inc_value(_outlet_key(outlet, what), value)


def count_outlet(stats: StatsCollector, outlet: str, what: str, value: int = 1) -> None:
    """Add to one outlet's count only (no run total)."""
    stats.inc_value(_outlet_key(outlet, what), value)


def outlet_value(stats: StatsCollector, outlet: str, what: str) -> Any:
    return stats.get_value(_outlet_key(outlet, what))


def count_skipped(stats: StatsCollector, why: str, value: int = 1) -> None:
    """Something not fetched or not stored on purpose (over the limit, too old, robots.txt…)."""
    stats.inc_value(f"{PREFIX}skipped/{why}", value)


def count_discovery(stats: StatsCollector, what: str, value: int = 1) -> None:
    """A listing of a kind read (feed, sitemap, sitemapindex) or feeds found on a homepage."""
    stats.inc_value(f"{PREFIX}discovery/{what}", value)


def count_page_kind(stats: StatsCollector, kind: str) -> None:
    stats.inc_value(f"{PREFIX}page_kind/{kind}")


def count_truncated(stats: StatsCollector, what: str) -> None:
    stats.inc_value(f"{PREFIX}truncated/{what}")


def count_error(stats: StatsCollector, kind: str, outlet: str | None = None, url: str | None = None) -> None:
    """One failure of `kind`: in the run's total, by kind, and in the outlet's (with `url` as its last error)."""
    stats.inc_value(ERRORS)
    stats.inc_value(f"{ERRORS}/{kind}")
    if outlet:
        stats.inc_value(_outlet_key(outlet, "errors"))
        if url is not None:
            stats.set_value(_outlet_key(outlet, "last_error"), f"{kind}: {url}")
            failure = {"kind": kind, "url": url[:URL_KEPT], "at": datetime.now(UTC).isoformat(timespec="seconds")}
            key = _outlet_key(outlet, "failures")
            stats.set_value(key, _bounded_failures([*_failures(stats.get_value(key)), failure]))


def listing_answered(stats: StatsCollector, outlet: str) -> None:
    count_outlet(stats, outlet, "listings_ok")


def poll_hint(stats: StatsCollector, outlet: str, seconds: int) -> None:
    """One listing's refresh hint (0: none); the outlet's is the smallest, since any listing may bring news."""
    stats.min_value(_outlet_key(outlet, "poll_hint"), seconds)


def retry_after(stats: StatsCollector, outlet: str, seconds: float) -> None:
    stats.max_value(_outlet_key(outlet, "retry_after"), seconds)


FAILURES_KEPT = 20  # per outlet and run: the latest, so that a run with 10,000 404s stays a small row
URL_KEPT = 500  # characters of a failed URL kept


def _failures(value: Any) -> list[dict[str, str]]:
    """A failures list from its stats value: JSON text (a str travels through Redis like any count)."""
    return json.loads(value) if isinstance(value, str) and value else []


def _bounded_failures(failures: list[dict[str, str]]) -> str:
    return json.dumps(sorted(failures, key=lambda f: f["at"])[-FAILURES_KEPT:])


def outlet_counts(stats: dict[str, Any]) -> dict[str, OutletCounts]:
    """Each outlet's counts from a stats dump."""
    counts: dict[str, OutletCounts] = {}
    for key, value in stats.items():
        if key.startswith(BY_OUTLET):
            slug, _, what = key.removeprefix(BY_OUTLET).partition("/")
            setattr(counts.setdefault(slug, OutletCounts()), what, _failures(value) if what == "failures" else value)
    return counts


def total(stats: dict[str, Any], what: str) -> int:
    """A run total from a stats dump (0 when never counted)."""
    return int(stats.get(f"{PREFIX}{what}", 0))


def outcomes(stats: dict[str, Any]) -> dict[str, Any]:
    """The run's totals and counts by kind, keyed without the prefix (the run's `outcomes` JSON)."""
    return {
        key.removeprefix(PREFIX): value
        for key, value in stats.items()
        if key.startswith(PREFIX) and not key.startswith(BY_OUTLET)
    }


# how an OutletCounts field combines across processes (every other count adds up)
_COMBINE = {"last_error": "set", "poll_hint": "min", "retry_after": "max", "failures": "extend"}


def how_combined(key: str) -> str:
    """How a stats key combines across processes: "add", "min", "max", "set" (any process's value) or
    "extend" (every process's failures, the latest kept)."""
    return _COMBINE.get(key.rsplit("/", 1)[-1], "add") if key.startswith(BY_OUTLET) else "add"


def combined(dumps: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several processes' counts as one stats dump: counts add up, poll hints take the least, Retry-After the
    most, and a last error is any process's."""
    total: dict[str, Any] = {}
    for dump in dumps:
        for key, value in dump.items():
            old, how = total.get(key), how_combined(key)
            if how == "extend":
                total[key] = _bounded_failures([*_failures(old), *_failures(value)])
            elif old is None or how == "set":
                total[key] = value
            elif how == "add":
                total[key] = old + value
            else:
                total[key] = (min if how == "min" else max)(old, value)
    return total
