"""The web reader's pages, server-rendered from Jinja2 templates (feeds/web/templates), autoescaped: the index of
the latest stories, a story with every copy and what each outlet changed, an outlet's overview, and search.

Every value from the database is escaped by the templates and cleaned of characters HTML and XML forbid
(`finalize`); links are only ever http(s) URLs or the reader's own pages. No JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape

from feeds.build import FeedEntry
from feeds.sanitize import feed_url, language_tag, xml_safe
from feeds.web.diffs import Budget, WordDiff, Words, diff_words
from feeds.web.pictures import citation_picture, day_bars, timeline
from storage.common.times import as_utc
from storage.common.urls import is_web_url
from storage.models import Article
from storage.reader import OutletOverview, StoryDetail
from storage.search import SearchPage, SearchQuery

RTL_LANGUAGES = {"ar", "he", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"}


def _finalize(value: Any) -> Any:
    return xml_safe(value) if isinstance(value, str) else value


ENVIRONMENT = Environment(
    loader=PackageLoader("feeds.web", "templates"),
    autoescape=select_autoescape(["html", "svg"], default=True),
    finalize=_finalize,
    trim_blocks=True,
    lstrip_blocks=True,
)


def relative_time(when: datetime | None, now: datetime) -> str:
    """`when` as a reader says it: "5 minutes ago", "yesterday", "3 days ago", else the date."""
    if when is None:
        return ""
    seconds = (as_utc(now) - as_utc(when)).total_seconds()
    if seconds < -60:
        return as_utc(when).strftime("%-d %b %Y")
    for limit, unit, size in ((3600, "minute", 60), (86400, "hour", 3600)):
        if seconds < limit:
            count = max(int(seconds // size), 0)
            return "just now" if count == 0 else f"{count} {unit}{'s' if count > 1 else ''} ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    when_utc = as_utc(when)
    return when_utc.strftime("%-d %b" if when_utc.year == as_utc(now).year else "%-d %b %Y")


def direction(language: str | None) -> str:
    """The text direction of a language: "rtl" for Arabic, Hebrew, Persian…; else "auto" (the browser decides
    from the first strong character)."""
    primary = (language or "").split("-")[0].lower()
    return "rtl" if primary in RTL_LANGUAGES else "auto"


def web_link(url: str | None) -> str | None:
    """An http(s) URL fit for an href, or None (javascript: and the like are never linked)."""
    if not url:
        return None
    url = feed_url(xml_safe(url))
    return url if is_web_url(url) else None


def _render(template: str, root: str, title: str, **values: Any) -> bytes:
    page = ENVIRONMENT.get_template(template).render(root=root, page_title=title, **values)
    return page.encode("utf-8")


def _helpers(now: datetime) -> dict[str, Any]:
    return {
        "ago": lambda when: relative_time(when, now),
        "iso": lambda when: as_utc(when).isoformat(timespec="minutes") if when else "",
        "dir": direction,
        "lang": language_tag,
        "link": web_link,
        "slug_url": lambda slug: quote(slug, safe=""),
    }


@dataclass(frozen=True)
class StoryCard:
    """A story in a list: its original's uid, title and time, and the outlets carrying it."""

    uid: str
    title: str
    when: datetime
    language: str | None
    outlets: list[tuple[str, str]]  # (name, slug)
    summary: str


def story_card(copies: list[Article]) -> StoryCard:
    original = copies[0]
    outlets = list(dict.fromkeys((a.outlet.name, a.outlet.slug) for a in copies if a.outlet))
    summary = original.description or " ".join((original.text or "").split()[:40])
    return StoryCard(original.stable_uid, original.title, original.published or original.fetched_at,
                     original.language, outlets, summary)  # fmt: skip


@dataclass(frozen=True)
class FeedChoice:
    """A feed offered on the index (and announced in its head for autodiscovery)."""

    name: str
    url: str  # without the kind's extension
    discoverable: bool = True


def index_page(
    root: str, cards: list[StoryCard], feeds: list[FeedChoice], tags: list[FeedChoice], page: int, has_more: bool,
    now: datetime | None = None,
) -> bytes:  # fmt: skip
    """The index: the latest stories (a page of them), the feeds and the most used tags."""
    return _render(
        "index.html", root, "Latest stories", stories=cards, feeds=feeds, tags=tags, page=page, has_more=has_more,
        **_helpers(now or datetime.now(UTC)),
    )  # fmt: skip


COPIES_PER_PAGE = 10  # copies besides the original on one story page (?page=N for the others)
PAGE_WORK = 150_000  # diff work for one story page (words looked at, feeds.web.diffs): at most ~150 ms of CPU
COPY_WORK = 100_000  # of which one copy takes at most: a pathological copy leaves some for the others


@dataclass(frozen=True)
class CopyView:
    """A copy of a story on its page: the article, its paragraphs and what it changed against the original."""

    article: Article
    is_original: bool
    paragraphs: list[str]
    title_diff: WordDiff | None
    text_diff: WordDiff | None
    citations: list[tuple[str, str | None]]  # (name, the cited outlet's page slug when it is registered)


def story_pages(copies: int) -> int:
    """How many pages a story of `copies` copies takes (the original is on each, beside COPIES_PER_PAGE others)."""
    return max(1, -(-(copies - 1) // COPIES_PER_PAGE))


def story_page(root: str, detail: StoryDetail, page: int = 1, now: datetime | None = None) -> bytes | None:
    """A story (page `page` of its copies; None past the last): the original, then each other copy on the page
    as a word-level diff of headline and text against the original, why the original is the one, who cites
    whom, and when each copy shown was published. The diffs share one work budget (PAGE_WORK): what it does
    not reach is shown as not compared. The texts of copies on other pages are never read."""
    pages = story_pages(len(detail.copies))
    if not 1 <= page <= pages:
        return None
    original = detail.original
    outlets = {a.outlet_id: a.outlet for a in detail.copies if a.outlet}
    cites: list[tuple[str, str]] = []
    citations: dict[int, list[tuple[str, str | None]]] = {}
    for article in detail.copies:
        named = []
        for citation in detail.citations.get(article.id, []):
            cited = outlets.get(citation.outlet_id) if citation.outlet_id else None
            named.append((cited.name if cited else citation.name, cited.slug if cited else None))
            if article.outlet:
                cites.append((article.outlet.name, cited.name if cited else citation.name))
        citations[article.id] = list(dict.fromkeys(named))
    others = [a for a in detail.copies if a.id != original.id]
    shown = others[(page - 1) * COPIES_PER_PAGE : page * COPIES_PER_PAGE]
    title, text = Words.of(original.title), Words.of(original.text)
    copies = [CopyView(original, True, text.paragraphs, None, None, citations[original.id])]
    budget = Budget(PAGE_WORK)
    for article in shown:
        share = Budget(min(budget.left, COPY_WORK))
        title_diff = diff_words(title, Words.of(article.title), share)
        text_diff = diff_words(text, Words.of(article.text), share)
        budget.take(share.spent)
        copies.append(CopyView(article, False, [], title_diff.compact(), text_diff.compact(), citations[article.id]))
    names = list(dict.fromkeys(a.outlet.name for a in detail.copies if a.outlet))
    points = [(a.outlet.name if a.outlet else "?", a.published or a.fetched_at, a.id == original.id)
              for a in [original, *shown]]  # fmt: skip
    first = (page - 1) * COPIES_PER_PAGE + 1
    return _render(
        "story.html", root, original.title, detail=detail, copies=copies, picture=citation_picture(names, cites),
        marks=timeline(points), page=page, pages=pages, first=first, last=first + len(shown) - 1,
        others=len(others), **_helpers(now or datetime.now(UTC)),
    )  # fmt: skip


def outlet_page(root: str, overview: OutletOverview, now: datetime | None = None) -> bytes:
    """An outlet: how fresh it is, its last error, articles per day as a small chart, its newest articles."""
    bars, busiest = day_bars(overview.per_day)
    return _render(
        "outlet.html", root, overview.outlet.name, overview=overview, bars=bars, busiest=busiest,
        **_helpers(now or datetime.now(UTC)),
    )  # fmt: skip


@dataclass(frozen=True)
class SearchForm:
    """The search form as the reader filled it (echoed back into the form, escaped)."""

    q: str = ""
    outlet: str = ""
    lang: str = ""
    since: str = ""  # YYYY-MM-DD
    until: str = ""
    tag: str = ""

    def page_url(self, root: str, page: int) -> str:
        values = {k: v for k, v in self.__dict__.items() if v} | ({"page": str(page)} if page > 1 else {})
        return root + "search?" + urlencode(values)


def search_page(
    root: str, form: SearchForm, query: SearchQuery | None, results: SearchPage | None, page: int,
    outlets: list[tuple[str, str]], now: datetime | None = None,
) -> bytes:  # fmt: skip
    """The search form and, when a query was given, a page of results (newest first)."""
    return _render(
        "search.html", root, f"Search: {form.q}" if form.q else "Search", form=form, query=query, results=results,
        page=page, outlets=outlets, **_helpers(now or datetime.now(UTC)),
    )  # fmt: skip


def parse_day(value: str) -> date | None:
    """A YYYY-MM-DD form value, or None when empty; ValueError when malformed or outside 1900–2999."""
    if not value:
        return None
    day = date.fromisoformat(value)
    if not 1900 <= day.year <= 2999:
        raise ValueError(f"{value}: out of range")
    return day


def feed_page(root: str, title: str, feed_url: str, entries: list[FeedEntry], now: datetime | None = None) -> bytes:
    """A feed as a browser shows it when clicked: its items, and its address to paste into a reader."""
    return _render("feed.html", root, title, feed_url=feed_url, entries=entries, **_helpers(now or datetime.now(UTC)))
