"""The rows of the extraction benchmark: newswire, trafilatura in four settings, and the peer libraries.

Each row maps a corpus page to an `Output` (body text, and metadata for the rows that give it).
A peer that is not installed has no runner (`Row.run is None`); a runner that raises on a page
yields an empty output for it (`run_safely`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

from bench.corpus import Page

TRAFILATURA_ROWS = (
    "trafilatura extract",
    "trafilatura bare_extraction",
    "trafilatura favor_precision",
    "trafilatura favor_recall",
)
BASELINE = "trafilatura bare_extraction"


@dataclass
class Meta:
    """The metadata a row found: title, authors, publication date, language (None: the row has none)."""

    title: str | None = None
    authors: list[str] | None = None
    date: datetime | None = None
    language: str | None = None


@dataclass
class Output:
    """What a row returned for one page."""

    text: str = ""
    meta: Meta | None = None

    @property
    def words(self) -> int:
        return len(self.text.split())


Runner = Callable[[Page], Output]


@dataclass
class Row:
    name: str
    version: str
    run: Runner | None
    meta: bool = field(default=False)  # whether the row's outputs carry metadata


def package_version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


def run_safely(run: Runner, page: Page) -> Output:
    """The row's output, or an empty one when the row raises on the page."""
    try:
        return run(page)
    except Exception:  # noqa: BLE001 - a peer failing on a page scores it empty
        return Output()


def crawl_time(page: Page) -> datetime | None:
    """The fundus page's crawl date (anchor of relative dates); None for the other sets."""
    raw = page.truth.get("crawl_date") if page.dataset == "fundus" else None
    if not raw:
        return None
    value = datetime.fromisoformat(raw.split(".")[0])
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- newswire -------------------------------------------------------------------------------------


def _record_output(record) -> Output:
    meta = Meta(record.title, list(record.authors), record.published, record.language)
    return Output(record.text or "", meta)


def newswire_runner(disabled: str | None = None) -> Runner:
    """newswire's extract_article; with `disabled`, that one stage switched off (ExtractionContext)."""
    from crawler.extract import extract_article

    if disabled is None:
        return lambda page: _record_output(extract_article(page.html, page.url, fetched_at=crawl_time(page)))
    from crawler.extract import ExtractionContext

    def run(page: Page) -> Output:
        context = ExtractionContext(fetched_at=crawl_time(page), disabled=frozenset({disabled}))
        return _record_output(extract_article(page.html, page.url, context=context))

    return run


def stages() -> tuple[str, ...] | None:
    """newswire's stage names, or None while crawler.extract does not offer them."""
    try:
        from crawler.extract import STAGES, ExtractionContext  # noqa: F401
    except ImportError:
        return None
    return tuple(STAGES)


# --- trafilatura ------------------------------------------------------------------------------------


def _trafilatura_extract(**options) -> Runner:
    import trafilatura

    return lambda page: Output(trafilatura.extract(page.html, url=page.url, **options) or "")


def _trafilatura_bare(page: Page) -> Output:
    import trafilatura

    doc = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
    if doc is None:
        return Output("", Meta(authors=[]))
    date = datetime.fromisoformat(doc.date).replace(tzinfo=UTC) if doc.date else None
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    return Output(doc.text or "", Meta(doc.title, authors, date, doc.language))


# --- peers ----------------------------------------------------------------------------------------


def _newspaper() -> Runner | None:
    try:
        from newspaper import Article
    except ImportError:
        return None

    def run(page: Page) -> Output:
        article = Article(page.url, fetch_images=False)
        article.download(input_html=page.html)
        article.parse()
        return Output(article.text or "")

    return run


def _readability() -> Runner | None:
    try:
        import lxml.html
        from readability import Document
    except ImportError:
        return None

    def run(page: Page) -> Output:
        summary = Document(page.html, url=page.url).summary(html_partial=True)
        tree = lxml.html.fromstring(summary)
        blocks = [" ".join(b.text_content().split()) for b in tree.iter("p", "li", "h2", "h3", "blockquote", "pre")]
        return Output("\n\n".join(b for b in blocks if b) or " ".join(tree.text_content().split()))

    return run


def _goose() -> Runner | None:
    try:
        from goose3 import Goose
    except ImportError:
        return None
    goose = Goose({"enable_image_fetching": False})
    return lambda page: Output(goose.extract(url=page.url, raw_html=page.html).cleaned_text or "")


def _justext() -> Runner | None:
    try:
        import justext
    except ImportError:
        return None
    stop = justext.get_stoplist("English")

    def run(page: Page) -> Output:
        paragraphs = justext.justext(page.html.encode("utf-8"), stop)
        return Output("\n\n".join(p.text for p in paragraphs if not p.is_boilerplate))

    return run


def body_rows(only_newswire: bool = False) -> list[Row]:
    """The rows in report order: newswire, the trafilatura rows, then (unless only_newswire) the peers."""
    traf = package_version("trafilatura")
    rows = [
        Row("newswire", package_version("newswire"), newswire_runner(), meta=True),
        Row("trafilatura extract", traf, _trafilatura_extract()),
        Row(BASELINE, traf, _trafilatura_bare, meta=True),
        Row("trafilatura favor_precision", traf, _trafilatura_extract(favor_precision=True)),
        Row("trafilatura favor_recall", traf, _trafilatura_extract(favor_recall=True)),
    ]
    if not only_newswire:
        rows += [
            Row("newspaper4k", package_version("newspaper4k"), _newspaper()),
            Row("readability-lxml", package_version("readability-lxml"), _readability()),
            Row("goose3", package_version("goose3"), _goose()),
            Row("justext", package_version("justext"), _justext()),
        ]
    return rows


def htmldate_meta(page: Page) -> Meta:
    """htmldate's date for the page (extensive search); the row has no other metadata."""
    from htmldate import find_date

    found = find_date(page.html, url=page.url, outputformat="%Y-%m-%dT%H:%M:%S%z", extensive_search=True)
    date = None
    if found:
        date = datetime.fromisoformat(found)
        date = date.replace(tzinfo=UTC) if date.tzinfo is None else date
    return Meta(date=date)
