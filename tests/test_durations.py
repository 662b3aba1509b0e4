"""Durations as written in sources.toml and on the command line: parsed, refused with the text named, written back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduling.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(minutes=90)),
        (" 1h 30m ", timedelta(minutes=90)),
        ("1W2D", timedelta(days=9)),
        ("1d0h5s", timedelta(days=1, seconds=5)),
    ],
)
def test_parse(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a duration: ''"),
        ("15", "not a duration: '15'"),
        ("15x", "not a duration: '15x'"),
        ("1.5h", "not a duration: '1.5h'"),
        ("h", "not a duration: 'h'"),
        ("30m1h", "not a duration: '30m1h'"),
        ("1h1h", "not a duration: '1h1h'"),
        ("15 minutes", "not a duration: '15 minutes'"),
        ("0m", "not a positive duration: '0m'"),
        ("0h0s", "not a positive duration: '0h0s'"),
        ("-5m", "not a positive duration: '-5m'"),
        (15, "not a duration: 15"),
    ],
)
def test_bad_text_is_named(text, message):
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(seconds=90), "1m30s"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=24), "1d"),
        (timedelta(days=10), "1w3d"),
        (timedelta(0), "0s"),
    ],
)
def test_format_round_trips(td, text):
    assert format_duration(td) == text
    if td:
        assert parse_duration(text) == td


def test_format_refuses_negative():
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(minutes=-1))


def test_crawl_config_reads_every_setting_once_with_its_unit():
    """CrawlConfig is the one reader of NEWSWIRE_* settings: durations come out as timedelta, -s values typed."""
    from datetime import timedelta

    from crawler.config import CrawlConfig
    from crawler.run import crawl_settings

    config = CrawlConfig.from_settings(
        crawl_settings("sqlite:///x.db", {"NEWSWIRE_SITEMAP_WINDOW_DAYS": "2", "NEWSWIRE_FAILURE_LIMIT": "3"})
    )
    assert config.sitemap_window == timedelta(days=2) and config.failure_limit == 3
    assert config.retry_after_max == timedelta(minutes=10) and config.progress_interval == timedelta(seconds=10)
    assert config.polling.failure_limit == 3 and config.polling.maximum == timedelta(hours=24)
    assert config.db_url == "sqlite:///x.db"
