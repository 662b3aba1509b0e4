"""Imported once by the fork server of the extraction workers (crawler/processing/pool.py, Linux only): the extractor
is loaded and run on a small page, so its lazy parts — the language model, the date parsers' data — are
loaded too. Then every object is moved out of the garbage collector's reach (gc.freeze): a worker forked
from this server starts warm, in milliseconds, and its collections never write to those objects, so the
memory pages they sit on stay shared with the server and the other workers instead of being copied into
each one.

dateparser's locales are loaded here too (crawler.extract.dates.warm_date_parsers, ~3.5 s of CPU), shared
by every worker rather than loaded in each. The crawl's first fork waits for this module to finish: the
extract pipeline waits for it in a thread (ExtractPipeline._started_pool), never on the reactor, which
would otherwise hold every download that long (tests/test_faults.py's throttling test caught it).

The fork server is the crawl's child and the workers are its children: the kernel kills it when the crawl
dies and kills the workers when it dies (crawler/processing/lifetime.py), so a kill -9 of the crawl leaves nothing."""

from __future__ import annotations

import gc
import os

from crawler.extract import extract_article
from crawler.extract.dates import warm_date_parsers
from crawler.processing.lifetime import CRAWL_PID_VARIABLE, die_with_parent

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
warm_date_parsers()
gc.collect()
gc.freeze()  # what the server holds now is never collected in the workers: their pages stay shared
