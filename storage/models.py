"""Typed SQLAlchemy 2 models: outlets, articles and crawl runs."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.common.urls import article_uid


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset, so we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime refused: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


EXTRACTED_FIELDS = (
    "url", "canonical_url", "title", "authors", "published", "published_raw", "published_source", "published_offset",
    "language", "site_name", "description", "tags", "image", "text", "html", "page_kind", "license",
)  # fmt: skip
"""The Article columns an extraction fills, named as the extractor's record names them (one list: the
store pipeline copies these, a test checks both sides have them)."""


class RunStatus(StrEnum):
    """How a crawl run ended (or that it is still running)."""

    RUNNING = "running"
    COMPLETE = "complete"  # every page fetched and handled
    PARTIAL = "partial"  # errors, but something was gained
    FAILED = "failed"  # nothing stored and no listing read, or the crawl could not finish
    INTERRUPTED = "interrupted"  # stopped by SIGTERM/SIGINT


class RunStatusType(TypeDecorator[RunStatus]):
    """A RunStatus kept as its plain string (no schema change: the column stays VARCHAR(20))."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else RunStatus(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> RunStatus | None:
        return None if value is None else RunStatus(value)


intpk = Annotated[int, mapped_column(Integer, primary_key=True, autoincrement=True)]
utc_datetime = Annotated[datetime, mapped_column(UTCDateTime())]


def _uid_of_canonical_url(context: Any) -> str:
    return article_uid(context.get_current_parameters()["canonical_url"])


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[str]: JSON, list[list[str]]: JSON}


class Outlet(Base):
    __tablename__ = "outlets"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    homepage: Mapped[str] = mapped_column(String(2000))
    language: Mapped[str | None] = mapped_column(String(20))
    aliases: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[utc_datetime] = mapped_column(default=utcnow)

    articles: Mapped[list[Article]] = relationship(back_populates="outlet")


class Story(Base):
    """One news story, however many outlets (and URLs) carry it; `original_article_id` is its source copy."""

    __tablename__ = "stories"

    id: Mapped[intpk]
    created_at: Mapped[utc_datetime] = mapped_column(default=utcnow)
    original_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", use_alter=True, name="fk_stories_original_article", ondelete="SET NULL")
    )


class Article(Base):
    """One article at one canonical URL. Uniqueness lives here: canonical URL, and text per outlet."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("outlet_id", "text_hash", name="uq_article_outlet_text"),)

    id: Mapped[intpk]
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(String(2000), unique=True)
    # article_uid(canonical_url), set at insert (the canonical URL never changes): the id of exports, feed items
    # and story pages, the same in every database. Nullable only so migration 0012 need not rebuild the table.
    uid: Mapped[str] = mapped_column(String(16), nullable=True, index=True, default=_uid_of_canonical_url)
    title: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(default=list)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    published_raw: Mapped[str | None] = mapped_column(Text)
    published_source: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(20))
    site_name: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(default=list)
    image: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    # "article", or the kind of stub a kept page looks like ("paywall": the teaser of a paywalled story)
    page_kind: Mapped[str] = mapped_column(String(20), default="article", server_default="article")
    version: Mapped[int] = mapped_column(default=1, server_default="1")  # of the current text (see ArticleVersion)
    discovered_via: Mapped[str | None] = mapped_column(String(40))
    listing: Mapped[str | None] = mapped_column(Text)  # the feed, sitemap or page that led to it
    license: Mapped[str | None] = mapped_column(Text)  # the licence the page declares (a URL or a name)
    extractor: Mapped[str | None] = mapped_column(String(100))  # "newswire X; trafilatura Y" of the current text
    published_offset: Mapped[int | None] = mapped_column()  # minutes east of UTC the page gave its date in
    # the store batch that last inserted or revised it: batches commit one at a time, so an export cursor
    # "changed > N" sees every article stored or revised since its last export
    changed: Mapped[int] = mapped_column(default=0, server_default="0", index=True)
    fetched_at: Mapped[utc_datetime] = mapped_column(default=utcnow, index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)  # near-duplicate signature (None: text too short)

    outlet: Mapped[Outlet] = relationship(back_populates="articles")

    @property
    def stable_uid(self) -> str:
        """`uid`, or computed for a row written without it (by a version older than migration 0012)."""
        return self.uid or article_uid(self.canonical_url)


class ArticleVersion(Base):
    """A superseded version of an article's text. The current one is the article's own (a text is stored
    once); `article_history` lists them all, the current one last."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_article_version"),)

    id: Mapped[intpk]
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[utc_datetime]


class ArticleURL(Base):
    """Another URL at which a stored article was found (AMP copy, tracking variant, old path)."""

    __tablename__ = "article_urls"

    id: Mapped[intpk]
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)


class Citation(Base):
    """An outlet cited by an article: resolved to a registry outlet when possible, else by name."""

    __tablename__ = "citations"

    id: Mapped[intpk]
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[str] = mapped_column(Text)
    domain: Mapped[str | None] = mapped_column(String(255))


class CrawlRun(Base):
    """One `newswire crawl`: when, which outlets, and how each fetched page ended."""

    __tablename__ = "crawl_runs"

    id: Mapped[intpk]
    started_at: Mapped[utc_datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outlets: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[RunStatus] = mapped_column(RunStatusType(), default=RunStatus.RUNNING)
    finish_reason: Mapped[str | None] = mapped_column(String(100))
    pages_fetched: Mapped[int] = mapped_column(default=0)
    articles_new: Mapped[int] = mapped_column(default=0)
    already_stored: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    requests: Mapped[int] = mapped_column(default=0)
    not_modified: Mapped[int] = mapped_column(default=0)  # 304 answers to conditional requests
    articles_updated: Mapped[int] = mapped_column(default=0)
    outcomes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    by_outlet: Mapped[dict[str, Any]] = mapped_column(default=dict)  # slug → its own counts in this run
    by_worker: Mapped[dict[str, Any]] = mapped_column(default=dict)  # a shared crawl's worker id → its counts


class FetchValidator(Base):
    """HTTP validators of a discovery URL (feed, sitemap, robots.txt, homepage) for conditional requests.

    `body` keeps robots.txt (its rules are needed when the answer is 304); `links` keeps what a
    homepage's autodiscovery found, for the same reason.
    """

    __tablename__ = "fetch_validators"

    id: Mapped[intpk]
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)
    links: Mapped[list[str]] = mapped_column(default=list)
    poll_hint: Mapped[int | None]  # seconds a feed asks between polls (<ttl>, sy:updatePeriod)
    checked_at: Mapped[utc_datetime] = mapped_column(default=utcnow)


class OutletState(Base):
    """How fresh an outlet is and when it is next due: one row per outlet, updated after each crawl of it."""

    __tablename__ = "outlet_states"

    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), primary_key=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_new_article_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(default=0)  # crawls in a row where no listing answered
    last_error: Mapped[str | None] = mapped_column(Text)  # "<kind>: <url>" of the latest error, until a clean run
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    runs_with_errors: Mapped[int] = mapped_column(default=0, server_default="0")  # crawls in a row with an error
    interval_seconds: Mapped[int | None]
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class RawBody(Base):
    """A fetched body, compressed, stored once however many fetches returned it (storage/raw.py)."""

    __tablename__ = "raw_bodies"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 hex of the body as downloaded
    size: Mapped[int]  # its length before compression
    codec: Mapped[str] = mapped_column(String(10))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RawFetch(Base):
    """The response that gave one version of an article: URL, status, headers, time, and its body's digest."""

    __tablename__ = "raw_fetches"

    id: Mapped[intpk]
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int]
    headers: Mapped[list[list[str]]] = mapped_column(default=list)
    hints: Mapped[dict[str, Any] | None] = mapped_column()  # what the listing said of it (DiscoveryHints)
    fetched_at: Mapped[utc_datetime]
    digest: Mapped[str] = mapped_column(ForeignKey("raw_bodies.digest"), index=True)


class DatabaseMeta(Base):
    """Facts about the database itself, one row per key: `database_id`, a random id given when the schema was
    made (migration 0014), which export state files name so that a cursor is never used on another database."""

    __tablename__ = "database_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
