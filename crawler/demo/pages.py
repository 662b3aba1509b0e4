"""HTML, feeds, sitemaps and robots.txt of the local news web's four outlets."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from email.utils import format_datetime
from html import escape

from crawler.demo.server import Resource
from crawler.demo.stories import ARABIC_MONTHS, ReferenceParts, Story

XML = "application/xml; charset=utf-8"


def _dt(story: Story) -> datetime:
    return datetime.fromisoformat(story.published)


def _paragraphs(paragraphs: tuple[str, ...]) -> str:
    return "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)


def html_resource(markup: str) -> Resource:
    return Resource(markup.encode("utf-8"))


# --- Maghreb Ledger: WordPress, RSS 2.0, every kind of boilerplate ---------------------------------

WP_NAV = """<header id="theme-header" class="site-header"><div class="logo"><a href="/">Maghreb Ledger</a></div>
<nav id="main-nav" class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/category/politics/">Politics</a></li>
<li><a href="/category/economy/">Economy</a></li><li><a href="/category/culture/">Culture</a></li></ul></nav></header>"""

WP_SIDEBAR = """<aside id="sidebar" class="sidebar"><div class="widget widget_recent_entries"><h4>Recent Posts</h4><ul>
<li><a href="/2025/07/20/older-story/">Older story about Maghreb trade routes</a></li>
<li><a href="/2025/07/19/another-story/">Another story on Sahel security</a></li></ul></div></aside>"""

WP_TAIL = """<div class="share-buttons share-buttons-bottom"><span class="share-title">Share</span>
<a class="share-facebook" href="https://www.facebook.com/sharer.php?u=x">Facebook</a>
<a class="share-twitter" href="https://twitter.com/intent/tweet?text=x">X</a>
<a class="share-whatsapp" href="https://api.whatsapp.com/send?text=x">WhatsApp</a></div>
<div class="wp-block-group has-background"><div class="wp-block-group__inner-container">
<h3 class="wp-block-heading">Want to chase the pulse of North Africa?</h3>
<p>Subscribe to receive our FREE weekly PDF magazine</p>
<p><a class="wp-block-button__link" href="/magazine/">Get the magazine</a></p></div></div>"""

WP_COMMENTS = """<div id="respond" class="comment-respond"><h3 id="reply-title" class="comment-reply-title">Leave a Reply
<small><a rel="nofollow" id="cancel-comment-reply-link" href="#respond" style="display:none;">Cancel reply</a></small></h3>
<form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">
<p class="comment-notes"><span id="email-notes">Your email address will not be published.</span>
<span class="required-field-message">Required fields are marked <span class="required">*</span></span></p>
<p class="comment-form-comment"><label for="comment">Comment</label><textarea id="comment" name="comment"></textarea></p>
<p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Post Comment"></p>
</form></div>"""

WP_POPUP = """<div id="tie-popup-newsletter" class="tie-popup"><div class="tie-popup-container">
<a href="#" class="tie-btn-close remove big-btn light-btn"><span class="screen-reader-text">Close</span>×</a>
<div class="newsletter-inner"><h4 class="newsletter-title">Subscribe To Our Newsletter</h4>
<p>[mc4wp_form id="206"]</p></div></div></div>"""


def wordpress_article(story: Story, site_url: str, *, shortcode_in_body: bool = True) -> str:
    """A WordPress single post with share buttons and counter, promo box, comment form and newsletter popup."""
    url = site_url + story.path
    body = _paragraphs(story.paragraphs)
    if story.source_line:
        body += f"\n<p>{escape(story.source_line)}</p>"
    if shortcode_in_body:
        body += '\n<p>[mc4wp_form id="206"]</p>'
    day = _dt(story).strftime("%B %-d, %Y")
    return f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8">
<title>{escape(story.title)} - Maghreb Ledger</title>
<link rel="canonical" href="{url}">
<link rel="alternate" type="application/rss+xml" title="Maghreb Ledger &raquo; Feed" href="{site_url}/feed/">
<meta property="og:type" content="article"><meta property="og:title" content="{escape(story.title)}">
<meta property="og:url" content="{url}"><meta property="og:site_name" content="Maghreb Ledger">
<meta property="article:published_time" content="{story.published}">
<meta name="author" content="{escape(story.author)}">
<script>var tie = {{"is_rtl":"","ajaxurl":"/wp-admin/admin-ajax.php"}};</script>
<style>.share-buttons{{display:flex}}</style>
</head><body class="post-template-default single single-post postid-123 single-format-standard">
{WP_NAV}
<div id="content" class="site-content container"><div class="main-content">
<article id="the-post" class="container-wrapper post-content">
<header class="entry-header-outer"><div class="entry-header">
<div class="post-meta"><span class="meta-views meta-item"><span class="tie-icon-fire"></span>0</span>
<span class="meta-author"><a href="/author/staff/" rel="author">{escape(story.author)}</a></span>
<span class="date meta-item">{day}</span></div>
<h1 class="post-title entry-title">{escape(story.title)}</h1></div></header>
<div class="share-buttons share-buttons-top"><a class="share-btn" href="#">Share</a></div>
<div class="entry-content entry clearfix">
{body}
</div>
{WP_TAIL}
</article>
{WP_COMMENTS}
</div>{WP_SIDEBAR}</div>
{WP_POPUP}
<footer id="footer" class="site-footer"><p>&copy; 2025 Maghreb Ledger. All rights reserved.</p></footer>
</body></html>"""


def reference_story(parts: ReferenceParts) -> Story:
    """The reference article as a Maghreb Ledger post."""
    return Story(
        "/2025/07/24/syria-requests-support-from-turkey-following-sectarian-violence/",
        parts.title,
        parts.paragraphs,
        author="Maghreb Ledger",
        published="2025-07-24T09:15:00+00:00",
        tags=("Syria", "Turkey"),
        source_line=parts.source_line,
    )


def rss2_feed(site_url: str, title: str, items: list[tuple[str, Story]]) -> Resource:
    """An RSS 2.0 feed; `items` pairs the link to use with the story."""
    rows = []
    for link, story in items:
        rows.append(
            f"""<item><title>{escape(story.title)}</title><link>{escape(link)}</link>
<dc:creator><![CDATA[{story.author}]]></dc:creator><pubDate>{format_datetime(_dt(story))}</pubDate>
<guid isPermaLink="false">{escape(site_url + story.path)}</guid>
<description><![CDATA[{story.paragraphs[0] if story.paragraphs else ""}]]></description></item>"""
        )
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><title>{escape(title)}</title><link>{site_url}/</link><description>News</description>
<atom:link href="{site_url}/feed/" rel="self" type="application/rss+xml"/>
{"".join(rows)}
</channel></rss>"""
    return Resource(xml.encode("utf-8"), "application/rss+xml; charset=utf-8")


# --- Desert Wire: sitemaps only (robots.txt → index → gzipped news sitemap), JSON-LD --------------


def jsonld_article(story: Story, site_url: str, *, amp: bool = False) -> str:
    """A news page whose metadata is JSON-LD NewsArticle only (no OpenGraph dates); optionally its AMP copy."""
    url = site_url + story.path
    data = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Desert Wire", "url": site_url + "/"},
            {
                "@type": "NewsArticle",
                "headline": story.title,
                "datePublished": story.published,
                "author": [{"@type": "Person", "name": n} for n in story.author.split(" and ")],
                "publisher": {"@type": "Organization", "name": "Desert Wire"},
                "keywords": list(story.tags),
                "mainEntityOfPage": url,
            },
        ],
    }
    amp_attr = " amp" if amp else ""
    link = f'<link rel="canonical" href="{url}">' if amp else f'<link rel="amphtml" href="{site_url}/amp{story.path}">'
    return f"""<!doctype html>
<html{amp_attr} lang="en"><head><meta charset="utf-8"><title>{escape(story.title)} | Desert Wire</title>
{link}
<script type="application/ld+json">{json.dumps(data)}</script></head>
<body><div class="topbar"><a href="/">Desert Wire</a> <a href="/markets">Markets</a> <a href="/region">Region</a></div>
<div class="cookie-banner">We use cookies to improve your experience. <a href="/privacy">Accept</a></div>
<main><article class="story">
<h1>{escape(story.title)}</h1>
<p class="byline">By {escape(story.author)}</p>
<div class="story-body">{_paragraphs(story.paragraphs)}</div>
<div class="related-stories"><h2>Related</h2><ul><li><a href="/news/other-1">Oil output steady in June</a></li>
<li><a href="/news/other-2">Shipping costs fall in the Red Sea</a></li></ul></div>
<div class="newsletter-signup"><p>Sign up for the Desert Wire daily briefing</p><form><input type="email"></form></div>
</article></main><footer>Desert Wire &copy; 2025 · <a href="/about/">About</a></footer></body></html>"""


def about_page() -> str:
    """A page with no article: a short index of sections."""
    return """<!doctype html><html lang="en"><head><title>About | Desert Wire</title></head><body>
<nav><a href="/">Home</a> <a href="/markets">Markets</a></nav><h1>About us</h1>
<ul><li><a href="/markets">Markets</a></li><li><a href="/region">Region</a></li></ul></body></html>"""


def news_sitemap(site_url: str, entries: list[tuple[str, Story, str]]) -> bytes:
    """A Google News sitemap of (loc, story, lastmod) entries, gzipped."""
    rows = "".join(
        f"""<url><loc>{escape(loc)}</loc><lastmod>{lastmod}</lastmod><news:news><news:publication><news:name>Desert Wire</news:name>
<news:language>en</news:language></news:publication><news:publication_date>{story.published}</news:publication_date>
<news:title>{escape(story.title)}</news:title></news:news></url>"""
        for loc, story, lastmod in entries
    )
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{rows}</urlset>"""
    return gzip.compress(xml.encode("utf-8"), mtime=0)


def urlset(locs: list[tuple[str, str]]) -> Resource:
    """A plain sitemap of (loc, lastmod) pairs."""
    rows = "".join(f"<url><loc>{escape(loc)}</loc><lastmod>{mod}</lastmod></url>" for loc, mod in locs)
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'
    return Resource(xml.encode("utf-8"), XML)


def sitemap_index(children: list[tuple[str, str]]) -> Resource:
    """A sitemap index of (loc, lastmod) children."""
    rows = "".join(f"<sitemap><loc>{escape(c)}</loc><lastmod>{mod}</lastmod></sitemap>" for c, mod in children)
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</sitemapindex>'
    return Resource(xml.encode("utf-8"), XML)


# --- Atlas Review: Atom feed found by autodiscovery; dates in bylines and <time> -----------------


def atom_article(story: Story, *, byline_only: bool) -> str:
    """A page whose date is only in the byline text ('July 23rd', no year), or in a <time> element."""
    when = _dt(story)
    if byline_only:
        day = when.day
        suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        dateline = f'<p class="byline">By {escape(story.author)} · Published {when.strftime("%B")} {day}{suffix}</p>'
    else:
        dateline = f'<p class="byline">By {escape(story.author)} · <time datetime="{story.published}">{when:%d %b %Y}</time></p>'
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(story.title)}</title>
<link rel="alternate" type="application/atom+xml" href="/atom.xml"></head>
<body><header><a href="/">Atlas Review</a></header>
<main><h1>{escape(story.title)}</h1>{dateline}
<div class="article-text">{_paragraphs(story.paragraphs)}</div>
<div class="social-follow"><p>Follow us on Twitter</p></div></main>
<footer><p>Atlas Review · Independent journalism since 2009</p></footer></body></html>"""


def atom_feed(site_url: str, stories: tuple[Story, ...]) -> Resource:
    entries = "".join(
        f"""<entry><title>{escape(s.title)}</title><link rel="alternate" href="{site_url}{s.path}"/>
<id>{site_url}{s.path}</id><updated>{s.updated or s.published}</updated><published>{s.published}</published>
<author><name>{escape(s.author)}</name></author><summary>{escape(s.paragraphs[0])}</summary></entry>"""
        for s in stories
    )
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atlas Review</title><id>{site_url}/</id>
<link rel="self" href="{site_url}/atom.xml"/><updated>2025-07-23T08:00:00Z</updated>{entries}</feed>"""
    return Resource(xml.encode("utf-8"), "application/atom+xml; charset=utf-8")


# --- Al-Khabar: Arabic pages, RSS 1.0 (RDF) feed, dates in Arabic ---------------------------------


def arabic_article(story: Story) -> str:
    """An Arabic page whose only date is written in Arabic ('23 يوليو 2025 - 14:30')."""
    when = _dt(story)
    date_text = f"{when.day} {ARABIC_MONTHS[when.month - 1]} {when.year} - {when:%H:%M}"
    return f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{escape(story.title)} - الخبر</title></head>
<body><nav><a href="/">الرئيسية</a> <a href="/economy">اقتصاد</a></nav>
<main><h1>{escape(story.title)}</h1>
<div class="article-info"><span class="author">{escape(story.author)}</span> <span class="date">{date_text}</span></div>
<div class="article-body">{_paragraphs(story.paragraphs)}</div>
<div class="share-box"><span>شارك</span> <a href="#">فيسبوك</a> <a href="#">تويتر</a></div></main>
<footer>جميع الحقوق محفوظة</footer></body></html>"""


def rdf_feed(site_url: str, stories: tuple[Story, ...]) -> Resource:
    """An RSS 1.0 (RDF) feed with dc:date, asking readers to poll twice a week (sy:updatePeriod)."""
    seq = "".join(f'<rdf:li rdf:resource="{site_url}{s.path}"/>' for s in stories)
    items = "".join(
        f"""<item rdf:about="{site_url}{s.path}"><title>{escape(s.title)}</title><link>{site_url}{s.path}</link>
<dc:date>{s.published}</dc:date><dc:creator>{escape(s.author)}</dc:creator></item>"""
        for s in stories
    )
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel rdf:about="{site_url}/rss.rdf"><title>الخبر</title><link>{site_url}/</link><description>أخبار</description>
<sy:updatePeriod>weekly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
<items><rdf:Seq>{seq}</rdf:Seq></items></channel>{items}</rdf:RDF>"""
    return Resource(xml.encode("utf-8"), "application/rdf+xml; charset=utf-8")
