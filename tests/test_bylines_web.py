"""Byline forms served over real HTTP on loopback, fetched with urllib and read by extract_article."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from crawler.extract import extract_article
from tests.support.bylineweb import BYLINES, SITE_NAME, start_byline_site


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    web, base = start_byline_site()
    try:
        yield base
    finally:
        web.stop()


@pytest.mark.parametrize("path", sorted(BYLINES))
def test_byline_form_over_http(base_url, path):
    url = base_url + path
    with urllib.request.urlopen(url, timeout=10) as response:
        page = response.read().decode("utf-8")
    record = extract_article(page, url)
    assert record.page_kind == "article"
    assert record.authors == BYLINES[path][1]
    assert SITE_NAME not in record.authors
