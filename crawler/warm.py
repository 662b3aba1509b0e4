"""Imported once by the fork server of the extraction workers (crawler.pipelines, Linux only): the extractor
is loaded and run on a small page, so its lazy parts — the language model, the date parsers' data — are
loaded too. Every worker forked from that server starts warm, in milliseconds, and shares those memory
pages with it and with the other workers.

The fork server is the crawl's child and the workers are its children: the kernel kills it when the crawl
dies and kills the workers when it dies (crawler/workers.py), so a kill -9 of the crawl leaves nothing."""

from __future__ import annotations

import os

from crawler.extract import extract_article
from crawler.workers import CRAWL_PID_VARIABLE, die_with_parent

# no thread: this process forks. The crawl's pid comes from the environment, not from getppid(): a crawl
# killed while this server was still loading would otherwise leave it adopted, and tied to its new parent.
die_with_parent(int(os.environ.get(CRAWL_PID_VARIABLE) or os.getppid()), watch=False)

WARM_UP_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Warm-up story - Example Times</title>
<meta property="article:published_time" content="2025-01-02T10:00:00Z"></head><body><article>
<h1>Warm-up story</h1><p class="byline">By Jane Doe</p>
<p>The council approved the new budget on Tuesday after a long debate about schools, roads and the harbour.</p>
<p>"We listened to every district," the mayor told Reuters, adding that the vote was closer than expected.</p>
</article></body></html>"""

extract_article(WARM_UP_PAGE, "https://example.invalid/2025/01/02/warm-up-story")
