"""Structured metadata of a page: JSON-LD, OpenGraph and other meta tags, microdata, canonical link."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

from crawler.extract.language import language_tag

ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "report",
    "socialmediaposting", "techarticle", "scholarlyarticle",
}  # fmt: skip
DATE_META = (
    "article:published_time", "og:published_time", "datepublished", "date", "pubdate", "publishdate",
    "publish-date", "published_time", "dc.date", "dc.date.issued", "dcterms.created", "dcterms.date",
    "parsely-pub-date", "sailthru.date", "cxenseparse:recs:publishtime", "article.published",
)  # fmt: skip


@dataclass
class Structured:
    """Metadata found in markup meant for machines, each field as its source gave it."""

    title: str | None = None
    og_title: str | None = None
    twitter_title: str | None = None
    authors: list[str] = field(default_factory=list)
    meta_authors: list[str] = field(default_factory=list)
    dates: list[tuple[str, str]] = field(default_factory=list)  # (source, raw value)
    description: str | None = None
    site_name: str | None = None
    publisher: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    canonical: str | None = None
    accessible_for_free: bool | None = None
    license: str | None = None  # the licence the page declares: <link rel="license">, JSON-LD, dc/dcterms
    declares_article: bool = False  # og:type article, or a JSON-LD article type: the page says it is one story


PAGE_TYPES = frozenset({"webpage", "itempage"})  # a page that is no article type may still name its author
# Meta names, properties and itemprops that name the author (those trafilatura reads too).
AUTHOR_META = frozenset({
    "author", "authors", "article:author", "og:author", "og:article:author", "parsely-author", "sailthru.author",
    "dc.creator", "dc:creator", "dc.creator.aut", "dcterms.creator", "dcterms.creator.aut", "creator", "byl",
    "citation_author", "atc-metaauthor", "dcsext.author", "rbauthors", "shareaholic:article_author_name",
})  # fmt: skip
LICENSE_META = frozenset({"license", "dc.rights", "dcterms.license", "dcterms.rights", "dc.license"})


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _types(node: dict[str, Any]) -> set[str]:
    return {str(t).lower().rsplit("/", 1)[-1] for t in _as_list(node.get("@type"))}


def _walk_jsonld(data: Any) -> list[dict[str, Any]]:
    """Every object in a JSON-LD document, through arrays and @graph."""
    found: list[dict[str, Any]] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            found.append(node)
            if "@graph" in node:
                stack.append(node["@graph"])
    return found


def _names(value: Any, ids: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Names of people or organisations: strings, {"name": …}, {"givenName", "familyName"}, or {"@id": …}
    pointing at such a node elsewhere on the page (`ids`: a Yoast @graph names its Person apart)."""
    names = []
    for item in _as_list(value):
        if isinstance(item, dict) and ids and "name" not in item and isinstance(item.get("@id"), str):
            item = ids.get(item["@id"], item)
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = item.get("name")
            name = name.get("name") if isinstance(name, dict) else name
            if isinstance(name, str):
                names.append(name)
            elif isinstance(item.get("givenName"), str) and isinstance(item.get("familyName"), str):
                names.append(f"{item['givenName']} {item['familyName']}")
    return [n.strip() for n in names if n and n.strip()]


def _first_url(value: Any) -> str | None:
    for item in _as_list(value):
        if isinstance(item, str):
            return item
        if isinstance(item, dict):
            url = item.get("url") or item.get("contentUrl") or item.get("@id")
            if isinstance(url, str):
                return url
    return None


def _keywords(value: Any) -> list[str]:
    words: list[str] = []
    for item in _as_list(value):
        if isinstance(item, str):
            words.extend(w.strip() for w in item.split(","))
    return [w for w in words if w]


def _read_jsonld(tree: HtmlElement, out: Structured) -> None:
    nodes: list[dict[str, Any]] = []
    for script in tree.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'):
        try:
            nodes += _walk_jsonld(json.loads(script.text or "", strict=False))
        except ValueError:
            continue
    ids = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    page_authors: list[str] = []  # a WebPage's author: taken when no article node names one
    for node in nodes:
        types = _types(node)
        if types & ARTICLE_TYPES:
            out.declares_article = True
            out.title = out.title or _str(node.get("headline")) or _str(node.get("name"))
            out.authors = out.authors or _names(node.get("author"), ids) or _names(node.get("creator"), ids)
            for key in ("datePublished", "dateCreated", "uploadDate"):
                if isinstance(node.get(key), str):
                    out.dates.append(("json-ld", node[key]))
                    break
            out.description = out.description or _str(node.get("description"))
            out.image = out.image or _first_url(node.get("image"))
            out.tags = out.tags or _keywords(node.get("keywords"))
            out.language = out.language or _str(node.get("inLanguage"))
            free = node.get("isAccessibleForFree")
            if free is not None and out.accessible_for_free is None:
                out.accessible_for_free = str(free).strip().lower() not in ("false", "0", "no")
            publisher = _names(node.get("publisher"))
            out.publisher = out.publisher or (publisher[0] if publisher else None)
            out.license = out.license or _first_url(node.get("license")) or _str(node.get("license"))
        elif types & {"website", "organization", "newsmediaorganization"}:
            out.site_name = out.site_name or _str(node.get("name"))
        elif types & PAGE_TYPES:
            page_authors = page_authors or _names(node.get("author"), ids)
    out.authors = out.authors or page_authors


def _str(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    return value.strip() if isinstance(value, str) and value.strip() else None


def _read_meta(tree: HtmlElement, out: Structured) -> None:
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if not key or not content:
            if (meta.get("http-equiv") or "").lower() == "content-language" and content:
                out.language = out.language or content
            continue
        if key == "og:type":
            out.declares_article = out.declares_article or content.lower() == "article"
        elif key == "og:title":
            out.og_title = out.og_title or content
        elif key == "twitter:title":
            out.twitter_title = out.twitter_title or content
        elif key in ("og:site_name", "application-name"):
            out.site_name = out.site_name or content
        elif key in ("og:description", "description") and not out.description:
            out.description = content
        elif key in ("og:image", "twitter:image") and not out.image:
            out.image = content
        elif key in AUTHOR_META:
            if not content.startswith(("http://", "https://")):
                out.meta_authors.append(content)
        elif key in DATE_META:
            out.dates.append(("meta", content))
        elif key in ("article:tag", "news_keywords", "keywords"):
            out.tags.extend(_keywords(content))
        elif key == "og:locale" and not out.language:
            out.language = content
        elif key == "og:url" and not out.canonical:
            out.canonical = content
        elif key in LICENSE_META and not out.license:
            out.license = content
    for node in tree.xpath('//*[@itemprop="datePublished"][@datetime or @content]'):
        out.dates.append(("itemprop", node.get("datetime") or node.get("content")))


def _read_links(tree: HtmlElement, out: Structured) -> None:
    canonical_seen = False  # the first <link rel="canonical"> wins, over og:url too
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "license" in rel and link.get("href") and not out.license:
            out.license = link.get("href").strip()
        if "canonical" in rel and link.get("href") and not canonical_seen:
            out.canonical, canonical_seen = link.get("href").strip(), True
    html = tree if tree.tag == "html" else tree.getroottree().getroot()
    lang = html.get("lang") or html.get("{http://www.w3.org/XML/1998/namespace}lang")
    if lang:
        out.language = lang.strip()


def page_title(tree: HtmlElement) -> str | None:
    """The text of the page's <title> element."""
    title = tree.find(".//title")
    return re.sub(r"\s+", " ", title.text_content()).strip() if title is not None else None


def read_structured(tree: HtmlElement) -> Structured:
    """Collect JSON-LD, meta, microdata and link metadata from a parsed page."""
    out = Structured()
    _read_jsonld(tree, out)
    _read_meta(tree, out)
    _read_links(tree, out)
    out.language = language_tag(out.language)
    return out
