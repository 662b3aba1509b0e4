"""Write the merged and per-outlet feeds from the database as static files, atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from feeds.build import KINDS
from feeds.catalog import DEFAULT_ITEMS, merged_feed, outlet_feeds
from storage.files import write_atomically


@dataclass(frozen=True)
class WrittenFeed:
    """One feed file written: where, which kind, how many items."""

    path: Path
    kind: str
    items: int


def write_feeds(
    session: Session, out_dir: str | Path, *, items: int = DEFAULT_ITEMS, base_url: str | None = None
) -> list[WrittenFeed]:
    """Write all.rss/.atom/.json (one item per story, across outlets) and outlet/<slug>.rss|.atom|.json (one
    item per article), newest `items` each; each file is replaced atomically."""
    out_dir = Path(out_dir).resolve()
    base_url = base_url or out_dir.as_uri() + "/"
    if not base_url.endswith("/"):
        base_url += "/"
    written = []
    for feed in [merged_feed(session, base_url, base_url, items), *outlet_feeds(session, base_url, items)]:
        for kind in KINDS:
            name = f"{feed.path}.{kind}"
            write_atomically(out_dir / name, feed.render(kind, base_url + name))
            written.append(WrittenFeed(out_dir / name, kind, len(feed.entries)))
    return written
