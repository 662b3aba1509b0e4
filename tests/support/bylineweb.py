"""A loopback outlet whose articles each carry one form of byline, for testing author extraction over HTTP.

Kept apart from the news web's outlets (crawler/demo/__init__.py) so the end-to-end crawl's counts stay
as they are.
"""

from __future__ import annotations

import html

from crawler.demo.server import NewsWebServer, Resource

SLUG = "bylines"
SITE_NAME = "Harbour Ledger"

_STORY = (
    "The harbour authority approved a plan on Tuesday to rebuild the northern breakwater, ending a dispute "
    "that had delayed the work for nearly three years and left the fishing fleet exposed to winter storms.",
    "Engineers told the board that the old stone wall had settled by more than a metre in places, and that "
    "each new storm carried away part of the core. Repairs made after the floods two winters ago had held "
    "for a season, they said, but would not survive another gale of the same strength.",
    "The new design raises the crest of the wall and adds a layer of concrete armour units on the seaward "
    "side. Work is due to begin in the spring, when the weather allows barges to reach the site, and should "
    "take about eighteen months. The cost will be shared by the port, the regional government and a fund "
    "for coastal defences.",
    "Fishermen who had campaigned for the repairs welcomed the decision but said they would watch the "
    "timetable closely. Several boats were damaged last year when waves broke over the wall, and insurers "
    "have since raised their premiums for vessels moored in the inner basin.",
    "The board also agreed to study whether the old lighthouse at the end of the breakwater can be kept.",
)

# path → (byline markup placed under the headline, authors expected)
BYLINES: dict[str, tuple[str, list[str]]] = {
    "/by-two": ('<div class="byline">By Jane Doe and John Roe</div>', ["Jane Doe", "John Roe"]),
    "/meta-three": (
        '<div class="meta">By Ana Lima, Ben Okafor and Chloé Martin · Dec. 1, 2026, 10:04 AM</div>',
        ["Ana Lima", "Ben Okafor", "Chloé Martin"],
    ),
    "/article-meta": (
        '<div class="article-meta">By Mara Quinn and Tomas Berg · Dec. 1, 2026, 10:04 AM</div>',
        ["Mara Quinn", "Tomas Berg"],
    ),
    "/pipe-date": (
        "<div><span>Sehra Kaya |</span> <span>05.04.2026 - Updated: 05.04.2026</span></div>",
        ["Sehra Kaya"],
    ),
    "/von": ("<address>Von Lena Fischer, Redakteurin</address>", ["Lena Fischer"]),
    "/par": ('<p class="signature">Par Claire Dubois</p>', ["Claire Dubois"]),
    "/por": ('<p class="credits">Por Juan Pérez en Madrid</p>', ["Juan Pérez"]),
    "/arabic": ('<div class="info">بقلم يوسف العمراني</div>', ["يوسف العمراني"]),
    "/rel-author": (
        '<p>By <a rel="author" href="/people/omar">Omar Haddad</a>, Staff Writer | Updated 3 hours ago</p>',
        ["Omar Haddad"],
    ),
    "/itemprop": (
        '<span itemprop="author" itemscope><span itemprop="name">Priya Nair</span></span>'
        "<span>Senior Correspondent</span>",
        ["Priya Nair"],
    ),
    "/email": ('<div class="author">Kai Larsen kai.larsen@harbourledger.test</div>', ["Kai Larsen"]),
}


def article_page(path: str) -> str:
    """The article at `path`: a headline, its byline form, the story; the outlet named in its metadata."""
    byline, _ = BYLINES[path]
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in _STORY)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Harbour board backs breakwater rebuild - {SITE_NAME}</title>
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="2026-12-01T10:04:00+00:00">
</head><body>
<header><a href="/">{SITE_NAME}</a><nav><a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<article>
<h1>Harbour board backs breakwater rebuild after three-year dispute</h1>
{byline}
<div class="article-body">
{paragraphs}
</div>
</article>
<footer><a href="/about">About {SITE_NAME}</a> <a href="/share">Share on Twitter</a></footer>
</body></html>"""


def start_byline_site() -> tuple[NewsWebServer, str]:
    """Serve every byline article on a loopback port; the running server (stop it) and its base URL."""
    web = NewsWebServer([SLUG])
    base = web.start()[SLUG]
    web.sites[SLUG].routes = {path: Resource(article_page(path).encode("utf-8")) for path in BYLINES}
    return web, base
