"""crawler.stats: the one owner of newswire's stats keys, and the typed per-outlet counts read back from them."""

from __future__ import annotations

import pytest
from scrapy.utils.test import get_crawler

from crawler import stats as counters
from crawler.stats import OutletCounts


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
    assert by_outlet["ledger"] == OutletCounts(
        errors=1, last_error="http_404: https://ledger.test/feed", retry_after=30.0
    )
    assert counters.total(dump, counters.NEW) == 2 and counters.total(dump, counters.ALREADY_STORED) == 1
    assert counters.outcomes(dump) == {"new": 2, "already_stored": 1, "errors": 1, "errors/http_404": 1}
    assert by_outlet["herald"].as_json() == {"new": 2, "listings_ok": 1, "poll_hint": 600}
    assert OutletCounts.from_json(by_outlet["ledger"].as_json()) == by_outlet["ledger"]


def test_a_per_outlet_count_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="per-outlet"):
        counters.count_outlet(get_crawler().stats, "herald", "articles_stored")
