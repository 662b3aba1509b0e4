"""One fetched page as an `ArticlePage`: each field a cached property over the page's unpruned tree.

Fields never depend on the order in which they are read: metadata reads the raw tree, the body is
extracted from a pruned copy of it, and `to_record()` assembles the `ArticleRecord`. Each field can
be read (and tested) alone.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.body import body_html, extract_main, select_paragraphs
from crawler.extract.boilerplate import prune_boilerplate
from crawler.extract.citations import Citation, find_citations
from crawler.extract.context import BOILERPLATE_PRUNING, BYLINE_IN_BODY, SAFETY_NET, STANDFIRST, ExtractionContext
from crawler.extract.dates import DateCandidate, byline_dates, choose_date
from crawler.extract.fallback import TrafilaturaMetadata, htmldate_candidate
from crawler.extract.kinds import page_kind
from crawler.extract.language import choose_language, language_tag
from crawler.extract.parse import parsable, parse_page
from crawler.extract.people import page_authors, split_byline
from crawler.extract.record import NOT_ARTICLE, ArticleRecord
from crawler.extract.safety_net import recover_story
from crawler.extract.sites import domain_label, registrable_domain
from crawler.extract.standfirst import already_told, find_standfirst
from crawler.extract.structured import Structured, page_title, read_structured
from crawler.extract.titles import choose_title, headline_texts, normalize_title
from storage.common.urls import canonical_url, host_of, is_web_url


@dataclass(frozen=True)
class Body:
    """The story's paragraphs, its simple HTML and the (href, anchor text) of its links."""

    paragraphs: tuple[str, ...] = ()
    html: str = ""
    links: tuple[tuple[str, str], ...] = ()


class ArticlePage:
    """A page and what is extracted from it; `to_record()` gives the `ArticleRecord`."""

    def __init__(self, html: str, url: str, context: ExtractionContext | None = None) -> None:
        self.html = parsable(html)  # one stray \x1b or "&#8;" makes lxml drop the rest of the page
        self.url = url
        self.context = context or ExtractionContext()

    # --- the page as parsed -------------------------------------------------------------------

    @cached_property
    def tree(self) -> HtmlElement | None:
        """The parsed page, never pruned (None when nothing parses)."""
        return parse_page(self.html)

    @cached_property
    def structured(self) -> Structured:
        """JSON-LD, meta tags, microdata and links, as the page gives them."""
        return read_structured(self.tree) if self.tree is not None else Structured()

    @cached_property
    def fetched_at(self) -> datetime:
        return self.context.fetched_at or datetime.now(UTC)

    @cached_property
    def canonical_url(self) -> str:
        """The page's canonical URL: the declared one when it stays on the page's own host."""
        declared = self.structured.canonical
        if declared:
            absolute = urljoin(self.url, declared)
            if is_web_url(absolute) and host_of(absolute) == host_of(self.url):
                return canonical_url(absolute)
        return canonical_url(self.url)

    @cached_property
    def site_name(self) -> str | None:
        """The outlet's name as the page gives it (og:site_name, JSON-LD WebSite/Organization, publisher)."""
        return self.structured.site_name or self.structured.publisher

    @cached_property
    def site_names(self) -> tuple[str, ...]:
        """Every name of the outlet: the page's own, the registry's, the registrable domain and its label."""
        host = host_of(self.url)
        names = (self.site_name, self.structured.publisher, *self.context.outlet_names)
        names += (registrable_domain(host), domain_label(host)) if host else ()
        return tuple(dict.fromkeys(n.strip() for n in names if n and n.strip()))

    @cached_property
    def _trafilatura_metadata(self) -> TrafilaturaMetadata:
        return TrafilaturaMetadata(self.tree, self.url)

    # --- metadata -------------------------------------------------------------------------------

    @cached_property
    def title(self) -> str:
        """The headline as the outlet shows it, without the site's name."""
        if self.tree is None:
            return ""
        meta = self.structured
        titles = [meta.title, meta.og_title, *headline_texts(self.tree)[:1], meta.twitter_title, page_title(self.tree)]
        if not any(titles):
            hints = self.context.hints
            titles += [self._trafilatura_metadata.title, hints.title if hints else None]
        return choose_title(titles, self.site_names)

    @cached_property
    def markup_authors(self) -> list[str]:
        """Authors the page names: JSON-LD, meta tags, the visible byline, trafilatura's guess (people.page_authors)."""
        if self.tree is None:
            return []
        meta = self.structured
        fallback = self._trafilatura_metadata
        return page_authors(self.tree, meta.authors, meta.meta_authors, lambda: fallback.author, self.site_names)

    @cached_property
    def declared_language(self) -> str | None:
        """The language the page declares (<html lang>, og:locale, JSON-LD, Content-Language), if any."""
        return language_tag(self.structured.language)

    @cached_property
    def published(self) -> DateCandidate | None:
        """The publication date, from the most reliable plausible candidate."""
        if self.tree is None:
            return None
        raw_dates = list(self.structured.dates)
        hints = self.context.hints
        if hints and hints.published_raw:
            raw_dates.append((hints.source, hints.published_raw))
        language = self.language  # the text's when the page declares none: dateparser then tries one, not 14
        zone = ZoneInfo(self.context.timezone) if self.context.timezone else None
        return choose_date(
            raw_dates,
            url=self.url,
            languages=[language] if language else None,
            now=self.fetched_at,
            more=self._later_dates,
            zone=zone,
        )

    def _later_dates(self) -> Iterator[tuple[str, str]]:
        """Date candidates that cost more, cheapest first: the byline's, then htmldate's search of the page
        (a deep copy and a serialization of the tree: asked for only if the byline gives no time of day)."""
        if self.tree is not None:
            yield from byline_dates(self.tree)
            yield from htmldate_candidate(self.tree, self.url)

    # --- the story ------------------------------------------------------------------------------

    @cached_property
    def body(self) -> Body:
        """The story as extracted from a pruned copy of the page, with lost story text taken back."""
        if self.tree is None:
            return Body()
        pruned = copy.deepcopy(self.tree)
        if self.context.on(BOILERPLATE_PRUNING):
            prune_boilerplate(pruned)
        document = extract_main(pruned, self.url, self.context)
        headlines = (self.title, *headline_texts(self.tree))
        declares_article = self.structured.declares_article
        paragraphs = (
            select_paragraphs(document.body, headlines, self.context, declares_article=declares_article)
            if document is not None
            else []
        )
        if self.context.on(SAFETY_NET):
            document, paragraphs = recover_story(
                self.html, self.tree, self.url, headlines, document, paragraphs, self.context, declares_article
            )
        if document is None or not paragraphs:
            return Body()
        standfirst = find_standfirst(self.tree, self.structured.description, paragraphs[0])
        if self.context.on(STANDFIRST) and standfirst and not already_told(standfirst, " ".join(paragraphs)):
            lead = etree.Element("p")
            lead.text = standfirst
            document.body.insert(0, lead)
            paragraphs = [standfirst, *paragraphs]
        links = tuple((ref.get("target", ""), "".join(ref.itertext())) for ref in document.body.iter("ref"))
        return Body(tuple(paragraphs), body_html(document.body), links)

    @cached_property
    def _byline_split(self) -> tuple[tuple[str, ...], list[str]]:
        """The body's paragraphs without a byline paragraph, and the people that paragraph names (see
        people.split_byline)."""
        if not self.context.on(BYLINE_IN_BODY):
            return self.body.paragraphs, []
        return split_byline(self.body.paragraphs, self.markup_authors, self.site_names)

    @cached_property
    def text(self) -> str:
        """The clean story text, paragraphs separated by blank lines."""
        return "\n\n".join(self._byline_split[0])

    @cached_property
    def authors(self) -> list[str]:
        """The people who wrote the story: the markup's, else a byline paragraph's, else the outlet's name."""
        return self._byline_split[1] or self.markup_authors

    @cached_property
    def language(self) -> str | None:
        """The declared language unless the text says otherwise with confidence; the text's if undeclared."""
        return choose_language(self.declared_language, self.text, self.context.language)

    @cached_property
    def citations(self) -> list[Citation]:
        """The outlets the story cites, never the page's own."""
        own = (self.site_name, self.structured.publisher, *self.context.outlet_names)
        return find_citations(
            self.text, self.body.links, self.canonical_url, self.context.directory, own_names=tuple(n for n in own if n)
        )

    @cached_property
    def page_kind(self) -> str:
        """article, or the kind of stub the page is (consent wall, paywall, bot check, index page, no text)."""
        if self.tree is None:
            return NOT_ARTICLE
        return page_kind(self.tree, self.html, self.text, self.title, self.structured.accessible_for_free)

    # --- the record -----------------------------------------------------------------------------

    def to_record(self) -> ArticleRecord:
        """Every field, assembled."""
        record = ArticleRecord(url=self.url, canonical_url=self.canonical_url, page_kind=self.page_kind)
        if self.tree is None:
            return record
        meta = self.structured
        if self.published:
            record.published, record.published_raw = self.published.value, self.published.raw
            record.published_source = self.published.source
            record.published_offset = self.published.offset
        record.title, record.language = self.title, self.language
        record.authors = [name for name in map(normalize_title, self.authors) if name]
        record.site_name = normalize_title(self.site_name) or None
        record.description = normalize_title(meta.description) or None
        record.image = web_url(urljoin(self.url, meta.image)) if meta.image else None
        record.tags = [tag for tag in dict.fromkeys(map(normalize_title, meta.tags)) if tag]
        record.license = normalize_title(meta.license)[:500] or None
        record.text, record.html, record.citations = self.text, self.body.html, self.citations
        return record.make_storable()  # a JSON-LD "\ud800" or "\u0000" lost the whole article at the store


def web_url(url: str) -> str | None:
    """`url` when it is an http(s) URL, else None (a javascript:, data: or file: image is no image)."""
    return url if len(url) <= 2048 and is_web_url(url) else None
