"""Scrapy settings for newswire: the one source of crawl settings (custom keys start with NEWSWIRE_)."""

import os

from crawler import __version__

BOT_NAME = "newswire"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- politeness -------------------------------------------------------------------------------
USER_AGENT = f"newswire/{__version__} (news crawler; +https://github.com/newswire/newswire)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # each delay varies by ±50%
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_GIVE_UP_LOG_LEVEL = "DEBUG"  # the errback logs one line per failed URL
COOKIES_ENABLED = False
# Only http(s): a hostile listing must not make us read file://, data:, ftp:// or s3:// URLs.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's HTTP endpoint that runs Python code in the crawl: never by default
LOG_LEVEL = "INFO"
LOG_INSTALL_ROOT_HANDLER = True
DEFAULT_DROPITEM_LOG_LEVEL = "DEBUG"

SCHEDULER = "crawler.delaying_scheduler.DelayingScheduler"  # delayed retries wait here, not in a download slot
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry.BackoffRetryMiddleware": 550,
    "crawler.middlewares.private_addresses.PrivateAddressGuard": 90,
    "crawler.extensions.fetch_state.ConditionalRequestMiddleware": 580,  # inside redirects, after decompression
}
ITEM_PIPELINES = {
    "crawler.pipelines.extract.ExtractPipeline": 100,
    "crawler.pipelines.store.StorePipeline": 300,
}
EXTENSIONS = {
    "crawler.extensions.database.CrawlDatabase": 0,  # the crawl's one database, for every component
    "crawler.extensions.registry.CrawlRegistry": 0,  # the outlets the crawl started with and their origins
    "crawler.extensions.coordination.CoordinationKeeper": 0,  # what the crawl's processes decide together
    "crawler.extensions.fetch_state.FetchStateKeeper": 0,  # validators and unsettled listings of discovery URLs
    "crawler.extensions.run_record.RunRecorder": 0,
    "crawler.extensions.progress.ProgressReporter": 0,
}

# --- newswire ---------------------------------------------------------------------------------
NEWSWIRE_DB = os.environ.get("NEWSWIRE_DB", "sqlite:///newswire.db")
NEWSWIRE_MAX_ARTICLES_PER_OUTLET = 100  # per crawl; `newswire crawl --limit N` overrides
NEWSWIRE_SITEMAP_MAX_CHILDREN = 5  # newest child sitemaps followed from a sitemap index
NEWSWIRE_MAX_FEEDS_PER_OUTLET = 10  # feeds read from a homepage's <link rel="alternate">; the rest skipped
NEWSWIRE_MAX_SITEMAPS_PER_OUTLET = 10  # sitemaps read from robots.txt; the rest skipped
NEWSWIRE_MAX_TEXT_CHARS = 200_000  # a stored article's text is cut (at a paragraph) beyond this; counted
NEWSWIRE_MAX_HTML_CHARS = 500_000  # …and its clean HTML (then rebuilt from the cut text)
NEWSWIRE_SITEMAP_WINDOW_DAYS = 7.0  # sitemap entries older than this are skipped (sources.toml: sitemap_window)
# Extraction in worker processes keeps the engine downloading while pages are parsed: 1.48x the
# pages/s of in-process extraction on 2 cores (bench/crawl_throughput.py). 0 = in-process.
NEWSWIRE_EXTRACT_WORKERS = min(4, os.cpu_count() or 1) if (os.cpu_count() or 1) > 1 else 0
# Stored articles are committed in batches: one transaction for this many, or for what came within this
# many seconds, whichever comes first. An article counts as stored once its batch is committed.
# The raw response of every stored article version (status, headers, body; bodies zstd-compressed and stored
# once): what `newswire reextract` and `export --format warc` read. NEWSWIRE_KEEP_RAW=0 in the environment
# (or -s NEWSWIRE_KEEP_RAW=False) turns it off.
NEWSWIRE_KEEP_RAW = os.environ.get("NEWSWIRE_KEEP_RAW", "1").strip().lower() not in ("0", "false", "no", "off")
NEWSWIRE_STORE_BATCH_SIZE = 50
NEWSWIRE_STORE_BATCH_SECONDS = 0.2
# What the crawl's processes decide together (limits, cited outlets followed, its run) and its listings'
# bookkeeping: in memory for a crawl of one process; `--frontier` names the shared crawl's (crawler/frontier)
NEWSWIRE_COORDINATION = "crawler.extensions.coordination.CrawlCoordination"
NEWSWIRE_FETCH_STATE = "crawler.extensions.fetch_state.FetchState"
# --- a shared crawl (--frontier; crawler/frontier) ---------------------------------------------
NEWSWIRE_FRONTIER = ""  # a redis:// URL: the shared frontier of a crawl on several processes; empty = one process
NEWSWIRE_FRONTIER_DATABASE = ""  # the identity of this process's database (set by the shared crawl's setup)
NEWSWIRE_FRONTIER_STAY = False  # True: an idle worker waits for work; False: it ends when all is done
NEWSWIRE_FRONTIER_PLANS = True  # True: this process plans the crawl (`crawl --frontier`); False: a worker
NEWSWIRE_FRONTIER_PREFIX = "newswire"  # the frontier's Redis keys start with {this}: one crawl per prefix
NEWSWIRE_FRONTIER_LEASE_SECONDS = 120.0  # a worker's request goes to another worker this long after its last heartbeat
NEWSWIRE_FRONTIER_MAX_TRIES = 3  # leases that ended without an ack before a request is set aside and reported
NEWSWIRE_FRONTIER_SEEN_SECONDS = 7 * 86400  # an article URL queued once is not queued again for this long
NEWSWIRE_FRONTIER_LISTING_SEEN_SECONDS = 300  # a feed, sitemap or homepage: within one crawl, not the next
NEWSWIRE_FRONTIER_DEFER_AFTER = 5.0  # a host's slot further away than this: the request waits in the frontier
NEWSWIRE_FRONTIER_MAX_WAIT = 300.0  # … and asks the host clock again after at most this long
NEWSWIRE_FRONTIER_MAX_OUTAGE = 300.0  # a crawl that cannot reach its frontier this long ends (workers: once idle)
NEWSWIRE_STORY_THRESHOLD = 0.25  # estimated shingle Jaccard at which two texts are one story (bench/dedup.py)
NEWSWIRE_ALLOW_PRIVATE_ADDRESSES = False  # discovered links may reach loopback/private ranges
NEWSWIRE_RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry, doubled for each next one
NEWSWIRE_RETRY_BACKOFF_MAX = 60.0
NEWSWIRE_RETRY_AFTER_MAX = 600.0  # a Retry-After up to this is waited for within the crawl; longer: next crawl
# adaptive polling (`crawl --due`, `schedule run`): between these bounds, by how often an outlet publishes
NEWSWIRE_POLL_MIN_SECONDS = 15 * 60  # an outlet's `every` in sources.toml overrides this minimum
NEWSWIRE_POLL_MAX_SECONDS = 24 * 3600
NEWSWIRE_FAILURE_LIMIT = 5  # failed crawls in a row after which an outlet is reported as failing
NEWSWIRE_PROGRESS_INTERVAL = 10.0  # seconds between progress lines; 0 = none
