"""OPML 2.0 of every feed newswire publishes: what a feed reader imports to subscribe to all of them at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from lxml import etree

from feeds.sanitize import plain_text, xml_safe
from storage.common.urls import is_web_url


@dataclass(frozen=True)
class Subscription:
    """One feed in the list: its title, the feed's URL and the site it describes."""

    title: str
    feed_url: str
    site_url: str


def opml(title: str, subscriptions: list[Subscription], updated: datetime) -> bytes:
    """The OPML document (lxml escapes every value; titles are plain text; a site is linked only by http(s))."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = plain_text(title)
    etree.SubElement(head, "dateModified").text = format_datetime(
        updated.astimezone(UTC), usegmt=True
    )  # an RFC 822 date, as OPML 2.0 asks
    body = etree.SubElement(root, "body")
    for feed in subscriptions:
        name = plain_text(feed.title)
        site = {"htmlUrl": xml_safe(feed.site_url)} if is_web_url(feed.site_url) else {}
        etree.SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=xml_safe(feed.feed_url), **site)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
