"""The web reader in a real browser: Playwright driving Debian's Chromium over the server on loopback, on a crawl
of the local news web. Screenshots are saved under each test's temporary directory.

Skipped with the reason where Chromium or Playwright is absent; failed instead in CI (NEWSWIRE_REQUIRE_SERVICES=1),
whose .ci/run installs both."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.newsweb import Crawl
from tests.support.serving import copy_database, fetch, serving

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def _unavailable(reason: str) -> None:
    if os.environ.get("NEWSWIRE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (NEWSWIRE_REQUIRE_SERVICES=1: .ci/run installs Debian's chromium and playwright)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    executable = os.environ.get("NEWSWIRE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        _unavailable("Chromium not installed (Debian package chromium): the browser tests need it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright not installed (pip install playwright): the browser tests need it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def site(first_crawl: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(copy_database(first_crawl.db_path, tmp_path_factory.mktemp("browser") / "newswire.db")) as root:
        yield root


class Tab:
    """A page at a viewport size that records console errors and uncaught exceptions."""

    def __init__(self, browser, viewport: dict[str, int], shots: Path) -> None:
        self.page = browser.new_page(viewport=viewport)
        self.errors: list[str] = []
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.shots = shots

    def open(self, url: str, shot: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        self.page.screenshot(path=str(self.shots / f"{shot}.png"), full_page=True)

    def sideways_scroll(self) -> int:
        """How many pixels the page is wider than the window (0: no horizontal scrollbar)."""
        return self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_the_index_renders_the_crawled_stories_on_desktop_and_phone(browser, site: str, tmp_path: Path):
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        tab = Tab(browser, viewport, tmp_path)
        tab.open(site, f"index-{name}")
        titles = tab.page.locator("#stories li a.title")
        assert titles.count() >= 5
        assert all(re.fullmatch(re.escape(site) + r"stories/[0-9a-f]{16}", h) for h in titles.evaluate_all(
            "links => links.map(link => link.href)"))  # fmt: skip
        assert tab.page.locator("#stories time").first.inner_text().strip()  # a readable date
        assert tab.sideways_scroll() == 0, name
        assert tab.errors == [], tab.errors
    assert (tmp_path / "index-phone.png").stat().st_size > 0


def test_a_story_page_shows_its_copies_and_the_diff(browser, site: str, tmp_path: Path):
    tab = Tab(browser, DESKTOP, tmp_path)
    tab.open(site, "index")
    # the story carried by the most outlets: the wire story that runs at several
    counts = tab.page.locator("#stories li").evaluate_all(
        "items => items.map(i => i.querySelectorAll('small a').length)"
    )
    busiest = max(range(len(counts)), key=counts.__getitem__)
    assert counts[busiest] >= 2
    tab.page.locator("#stories li a.title").nth(busiest).click()
    tab.page.wait_for_load_state()
    tab.page.screenshot(path=str(tmp_path / "story.png"), full_page=True)
    copies = tab.page.locator("section.copy")
    assert copies.count() >= 2 and copies.first.locator(".badge").inner_text() == "original"
    assert tab.page.locator(".why").inner_text().strip()
    changes = copies.nth(1).locator("p.changes").inner_text()
    assert "original" in changes  # "Same words as the original." or what was removed and added
    assert (
        tab.page.locator("svg.citations g.node").count() >= 2 and tab.page.locator("svg.timeline circle").count() >= 2
    )
    assert tab.errors == [], tab.errors
    phone = Tab(browser, PHONE, tmp_path)
    phone.open(tab.page.url, "story-phone")
    assert phone.sideways_scroll() == 0 and phone.errors == []


def test_search_finds_an_article_by_a_word_of_its_text(browser, site: str, tmp_path: Path):
    tab = Tab(browser, PHONE, tmp_path)
    tab.open(site, "before-search")
    first = tab.page.locator("#stories li a.title").first
    title = first.inner_text()
    first.click()
    tab.page.wait_for_load_state()
    text = tab.page.locator("section.copy.original p").all_inner_texts()
    word = max((w for p in text for w in re.findall(r"\w{6,}", p)), key=len)  # a long word of the text
    tab.page.fill("header input[name=q]", word)
    tab.page.press("header input[name=q]", "Enter")
    tab.page.wait_for_load_state()
    tab.page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    results = tab.page.locator("#results li a.title").all_inner_texts()
    assert title in results, (word, results)
    assert tab.sideways_scroll() == 0 and tab.errors == [], tab.errors


def test_arabic_is_right_to_left_and_pages_have_no_sideways_scroll(browser, site: str, tmp_path: Path):
    tab = Tab(browser, PHONE, tmp_path)
    tab.open(site, "index")
    arabic = tab.page.locator("#stories li[lang='ar']")
    assert arabic.count() >= 1
    assert arabic.first.evaluate("item => getComputedStyle(item).direction") == "rtl"
    assert arabic.first.evaluate("item => getComputedStyle(item).textAlign") in ("right", "start")
    arabic.first.locator("a.title").click()
    tab.page.wait_for_load_state()
    tab.page.screenshot(path=str(tmp_path / "arabic-story.png"), full_page=True)
    assert tab.page.locator("h1").evaluate("h => getComputedStyle(h).direction") == "rtl"
    assert tab.sideways_scroll() == 0
    outlet = tab.page.locator("section.copy h2 a").first.get_attribute("href")
    tab.open(outlet, "outlet")
    assert tab.page.locator("svg.per-day rect").count() == 30 and tab.sideways_scroll() == 0
    tab.open(site + "feeds/all.rss", "feed-in-browser")  # a clicked feed is a page, not raw XML
    assert "paste its address into a feed reader" in tab.page.inner_text("body")
    assert fetch(site + "feeds/all.rss")[2].startswith(b"<?xml")  # a reader still gets the XML
    assert tab.sideways_scroll() == 0 and tab.errors == [], tab.errors
