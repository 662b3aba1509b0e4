"""HTTP validators of discovery URLs, for conditional requests: load them all, save what a crawl learnt."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import FetchValidator, utcnow
from storage.repository import dialect_insert

MAX_BODY_CHARS = 500_000  # a robots.txt larger than this is not kept (Google reads only the first 500 KiB)


@dataclass
class Validators:
    """What a server said about a URL last time: ETag, Last-Modified, and what we must remember of its body."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body: str | None = None
    links: list[str] = field(default_factory=list)
    poll_hint: int | None = None

    @property
    def usable(self) -> bool:
        """True when a conditional request can be made with these."""
        return bool(self.etag or self.last_modified)


def _validators(row: FetchValidator) -> Validators:
    return Validators(row.url, row.etag, row.last_modified, row.body, list(row.links or []), row.poll_hint)


def load_validators(session: Session) -> dict[str, Validators]:
    """Every stored validator by URL."""
    return {row.url: _validators(row) for row in session.scalars(select(FetchValidator))}


def load_validator(session: Session, url: str) -> Validators | None:
    """The stored validators of one URL, if any."""
    row = session.scalars(select(FetchValidator).where(FetchValidator.url == url)).first()
    return _validators(row) if row is not None else None


def save_validators(session: Session, validators: Iterable[Validators]) -> int:
    """Insert or replace validators by URL; return how many were written."""
    count = 0
    now = utcnow()
    for v in validators:
        body = v.body if v.body is None or len(v.body) <= MAX_BODY_CHARS else None
        values = {
            "etag": (v.etag or None) and v.etag[:500],
            "last_modified": (v.last_modified or None) and v.last_modified[:100],
            "body": body,
            "links": list(v.links),
            "poll_hint": v.poll_hint,
            "checked_at": now,
        }
        stmt = dialect_insert(session, FetchValidator).values(url=v.url[:2000], **values)
        session.execute(stmt.on_conflict_do_update(index_elements=["url"], set_=values))
        count += 1
    return count
