"""Write the merged and per-outlet feeds from the database as static files, atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from feeds.build import KINDS
from feeds.catalog import DEFAULT_ITEMS, feed_subscriptions, merged_feed, outlet_feeds
from feeds.opml import opml
from storage.common.files import write_atomically

OPML_FILE = "feeds.opml"


@dataclass(frozen=True)
class WrittenFeed:
    """One feed file written: where, which kind, how many items."""

    path: Path
    kind: str
    items: int


def write_feeds(
    session: Session, out_dir: str | Path, *, items: int = DEFAULT_ITEMS, base_url: str | None = None
) -> list[WrittenFeed]:
    """Write all.rss/.atom/.json (one item per story, across outlets), outlet/<slug>.rss|.atom|.json (one
    item per article), newest `items` each, and feeds.opml listing them; each file is replaced atomically.

    `base_url` is where the files will be served (their self links; default: their file:// URL). Item and feed
    ids do not depend on it: they are those the server gives (feeds.ids)."""
    out_dir = Path(out_dir).resolve()
    base_url = base_url or out_dir.as_uri() + "/"
    if not base_url.endswith("/"):
        base_url += "/"
    written = []
    merged = merged_feed(session, base_url, items)
    for feed in [merged, *outlet_feeds(session, items)]:
        for kind in KINDS:
            name = f"{feed.path}.{kind}"
            write_atomically(out_dir / name, feed.render(kind, base_url + name))
            written.append(WrittenFeed(out_dir / name, kind, len(feed.entries)))
    subscriptions = feed_subscriptions(session, base_url, base_url, "rss")
    write_atomically(out_dir / OPML_FILE, opml("newswire feeds", subscriptions, merged.updated))
    written.append(WrittenFeed(out_dir / OPML_FILE, "opml", len(subscriptions)))
    return written
