"""The small helpers every layer shares (one copy each): web URLs, hosts, UTC times, atomic file writes."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage.common.files import write_atomically
from storage.common.times import as_utc, iso
from storage.common.urls import bare_host, host_of, is_web_url


@pytest.mark.parametrize(
    ("url", "web"),
    [("https://x.test/a", True), ("HTTP://X.test", True), ("javascript:alert(1)", False), ("data:text/html,x", False),
     ("file:///etc/passwd", False), ("https://", False), ("/relative", False), ("http://[::1", False)],
)  # fmt: skip
def test_a_web_url_is_absolute_http_with_a_host(url, web):
    assert is_web_url(url) is web


def test_hosts_lose_www_only_at_the_start():
    assert bare_host("www.example.com") == "example.com" and bare_host("awww.example.com") == "awww.example.com"
    assert host_of("https://WWW.Example.com:8080/x") == "example.com"


def test_times_are_utc_and_written_with_their_offset():
    assert as_utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    plus_two = datetime(2026, 1, 1, 14, tzinfo=timezone(timedelta(hours=2)))
    assert as_utc(plus_two) == datetime(2026, 1, 1, 12, tzinfo=UTC) and as_utc(plus_two).tzinfo is UTC
    assert iso(None) is None and iso(plus_two, timespec="seconds") == "2026-01-01T14:00:00+02:00"


def test_an_atomic_write_replaces_whole_files_and_can_keep_their_mode(tmp_path):
    path = tmp_path / "deep" / "feed.xml"
    write_atomically(path, b"one")
    assert path.read_bytes() == b"one" and (path.stat().st_mode & 0o777) == 0o644
    os.chmod(path, 0o600)
    write_atomically(path, b"two", mode=None)
    assert path.read_bytes() == b"two" and (path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["feed.xml"]  # no temporary file left behind
