"""crawler.stats: the one owner of newswire's stats keys, and the typed per-outlet counts read back from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scrapy.utils.test import get_crawler

from crawler import stats as counters
from crawler.stats import OutletCounts


def test_an_outlets_failures_are_kept_bounded_and_combine_across_processes():
    first, second = get_crawler().stats, get_crawler().stats
    for n in range(counters.FAILURES_KEPT + 5):
        counters.count_error(first, "http_404", "wire", f"https://wire.test/{n}")
    counters.count_error(second, "listing_malformed", "wire", "https://wire.test/feed.xml")
    mine = counters.outlet_counts(first.get_stats())["wire"]
    assert mine.errors == counters.FAILURES_KEPT + 5 and len(mine.failures or []) == counters.FAILURES_KEPT
    assert (mine.failures or [])[-1]["url"] == f"https://wire.test/{counters.FAILURES_KEPT + 4}"  # the latest kept
    both = counters.outlet_counts(counters.combined([first.get_stats(), second.get_stats()]))["wire"]
    assert len(both.failures or []) == counters.FAILURES_KEPT
    assert "https://wire.test/feed.xml" in {f["url"] for f in both.failures or []}


def test_counts_written_through_the_module_are_read_back_typed():
    stats = get_crawler().stats
    counters.count(stats, counters.NEW, outlet="herald")
    counters.count(stats, counters.NEW, outlet="herald")
    counters.count(stats, counters.ALREADY_STORED, outlet="herald")  # a run total only: not a per-outlet count
    counters.count_error(stats, "http_404", "ledger", "https://ledger.test/feed")
    counters.listing_answered(stats, "herald")
    counters.poll_hint(stats, "herald", 3600)
    counters.poll_hint(stats, "herald", 600)  # the smallest hint wins
    counters.retry_after(stats, "ledger", 30.0)
    counters.retry_after(stats, "ledger", 10.0)  # the longest wait wins
    dump = stats.get_stats()
    by_outlet = counters.outlet_counts(dump)
    assert by_outlet["herald"] == OutletCounts(new=2, listings_ok=1, poll_hint=600)
    (failure,) = by_outlet["ledger"].failures or []
    assert failure["kind"] == "http_404" and failure["url"] == "https://ledger.test/feed"
    assert datetime.fromisoformat(failure["at"]) > datetime.now(UTC) - timedelta(minutes=1)
    assert by_outlet["ledger"] == OutletCounts(
        errors=1, last_error="http_404: https://ledger.test/feed", retry_after=30.0, failures=[failure]
    )
    assert counters.total(dump, counters.NEW) == 2 and counters.total(dump, counters.ALREADY_STORED) == 1
    assert counters.outcomes(dump) == {"new": 2, "already_stored": 1, "errors": 1, "errors/http_404": 1}
    assert by_outlet["herald"].as_json() == {"new": 2, "listings_ok": 1, "poll_hint": 600}
    assert OutletCounts.from_json(by_outlet["ledger"].as_json()) == by_outlet["ledger"]


def test_a_per_outlet_count_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="per-outlet"):
        counters.count_outlet(get_crawler().stats, "herald", "articles_stored")


def test_several_processes_counts_combine_as_one_crawls():
    """A shared crawl's run is every process's counts together: totals add up, an outlet's poll hint is the
    least any process saw, its Retry-After the longest, its last error any process's."""
    planner = {"newswire/new": 2, "newswire/by_outlet/wire/poll_hint": 900, "newswire/by_outlet/wire/retry_after": 5}
    worker = {
        "newswire/new": 3,
        "response_received_count": 7,
        "newswire/by_outlet/wire/poll_hint": 600,
        "newswire/by_outlet/wire/retry_after": 2,
        "newswire/by_outlet/wire/last_error": "http_404: https://wire.test/x",
    }
    assert counters.combined([planner, worker]) == {
        "newswire/new": 5,
        "response_received_count": 7,
        "newswire/by_outlet/wire/poll_hint": 600,
        "newswire/by_outlet/wire/retry_after": 5,
        "newswire/by_outlet/wire/last_error": "http_404: https://wire.test/x",
    }
    assert counters.combined([]) == {}
