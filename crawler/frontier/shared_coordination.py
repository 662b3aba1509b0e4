"""A shared crawl's coordination (crawler/extensions/coordination.py's seam), in Redis: the planner's options, articles
per outlet against the crawl's limit, cited outlets followed once, every process's counts (pages, requests,
stored, errors, and each outlet's — what adaptive polling reads), and the start of a new crawl (the planner
clears the last one's counts and listing bookkeeping and names the crawl's run, whose row every process's
articles point to).

Each process adds what it counted to the shared tally, under its worker id, when it acks a request (so the
counts of a request are in Redis before the request leaves the frontier) and when it closes; the planner,
which closes last (when nothing is queued or in flight), records the run — one `crawl_runs` row with the
totals and each worker's counts — and the outlets' crawl from the tally. Workers record nothing themselves:
an outlet whose listings another process read would look unanswered to them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from scrapy.crawler import Crawler

from crawler import stats as counters
from crawler.extensions.coordination import CrawlCoordination, CrawlOptions, RunCounts
from crawler.frontier.config import FrontierConfig
from crawler.frontier.connection import FrontierKeys, as_text, frontier_of
from crawler.frontier.dupefilter import ExpiringDupeFilter
from crawler.frontier.fetch_state import SharedFetchState
from crawler.frontier.health import frontier_health

logger = logging.getLogger(__name__)

PARAMS_TTL = 1.0  # seconds a process trusts the crawl options it read
PLANS_SETTING = "NEWSWIRE_FRONTIER_PLANS"  # True: this process plans the crawl (`crawl --frontier`); False: a worker
# the Scrapy stats a run's row is made of, besides newswire's own (crawler/extensions/run_record.py's run_counts)
_SCRAPY_COUNTS = ("response_received_count", "downloader/request_count")
_SCRAPY_COUNT_PREFIXES = ("spider_exceptions/", "item_dropped_reasons_count/", "robotstxt/", "retry/")
_SEP = "|"  # tally field: worker id, separator, stats key (worker ids are host:pid:token)
_MERGE = """
-- KEYS tally; ARGV field op value, …
for i = 1, #ARGV, 3 do
  local field, op, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local old = redis.call('HGET', KEYS[1], field)
  if op == 'add' then redis.call('HINCRBYFLOAT', KEYS[1], field, value)
  elseif op == 'set' or not old then redis.call('HSET', KEYS[1], field, value)
  elseif op == 'min' and tonumber(value) < tonumber(old) then redis.call('HSET', KEYS[1], field, value)
  elseif op == 'max' and tonumber(value) > tonumber(old) then redis.call('HSET', KEYS[1], field, value)
  end
end
return 0
"""


class SharedCoordination(CrawlCoordination):
    """One shared crawl's coordination: every process of the crawl sees the same decisions."""

    def __init__(
        self, client: redis.Redis, keys: FrontierKeys, *, plans: bool = True, crawler: Crawler | None = None
    ) -> None:
        super().__init__(crawler)
        self.plans = plans
        self.records_run = plans  # the planner's row is the run; a worker records none
        self.sees_every_response = False  # a request goes to whichever worker leases it
        self.client = client
        self.keys = keys
        self.scheduled_key = keys.key("scheduled")
        self.tally_key = keys.key("outlet_counts")
        self.params_key = keys.key("crawl_options")
        self.followed_key = keys.key("followed")
        self._params: tuple[float, dict[str, int]] = (-PARAMS_TTL - 1.0, {})
        self._merge = client.register_script(_MERGE)
        self._pushed: dict[str, Any] = {}  # this process's outlet counts as last added to the tally
        self.worker_id: str | None = None  # this process's id in the tally, once it added to it

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedCoordination:
        client, keys = frontier_of(crawler.settings)
        return cls(client, keys, plans=FrontierConfig.from_crawler(crawler).plans, crawler=crawler)

    def new_crawl(self, options: CrawlOptions, planned: set[str]) -> None:
        """The planner starts a crawl: the last crawl's counts and listing bookkeeping are forgotten, and the
        crawl's options are set for every worker (a worker reading a listing applies the planner's --limit;
        one storing an article follows its citations to the planner's --depth and records it in the
        planner's run). When Redis fails here, the crawl's health knows (its requests cannot be queued either:
        the crawl ends once the outage or the refused writes last NEWSWIRE_FRONTIER_MAX_OUTAGE)."""
        try:
            self._new_crawl(options, planned)
        except redis.RedisError as exc:
            if self.crawler is None:
                raise
            frontier_health(self.crawler).failed(exc)

    def _new_crawl(self, options: CrawlOptions, planned: set[str]) -> None:
        self.client.delete(self.scheduled_key, self.tally_key, self.followed_key)
        run_id = self.recorded_run or 0
        self.client.hset(
            self.params_key, mapping={"limit": options.limit, "follow_depth": options.follow_depth, "run_id": run_id}
        )
        if planned:  # a cited outlet the planner crawls anyway is not followed again
            self.client.sadd(self.followed_key, *planned)
        SharedFetchState.clear(self.client, self.keys)
        ExpiringDupeFilter.new_crawl(self.client, self.keys)

    def options(self, own: CrawlOptions) -> CrawlOptions:
        return CrawlOptions(self._option("limit", own.limit), self._option("follow_depth", own.follow_depth))

    def _option(self, name: str, default: int) -> int:
        """The planner's option for this crawl (read at most once a second), else `default`."""
        read_at, params = self._params
        if time.monotonic() - read_at > PARAMS_TTL:
            try:
                raw = self.client.hgetall(self.params_key)
            except redis.RedisError:  # while Redis is away, the options last read hold
                return params.get(name, default)
            params = {as_text(k): int(v) for k, v in raw.items()}
            self._params = (time.monotonic(), params)
        return params.get(name, default)

    def first_to_queue(self, url_key: str) -> bool:
        return True  # the frontier's dupefilter decides, for every worker and for days (crawler/frontier/dupefilter)

    def first_to_follow(self, slug: str) -> bool:
        """True for the one process that first follows this cited outlet in this crawl (none while Redis is
        away: the citation is followed by a later crawl)."""
        try:
            return bool(self.client.sadd(self.followed_key, slug))
        except redis.RedisError:
            return False

    def within_limit(self, slug: str, limit: int) -> bool:
        """Take one of the outlet's `limit` article requests for this crawl, if one is left; while Redis is
        away, none (counted as skipped: the article is left to the next crawl)."""
        try:
            taken = int(self.client.hincrby(self.scheduled_key, slug, 1))
            if taken > limit:
                self.client.hincrby(self.scheduled_key, slug, -1)
                return False
        except redis.RedisError as exc:
            if self.crawler is not None and self.crawler.stats is not None:
                counters.count_skipped(self.crawler.stats, "frontier_unreachable")
                frontier_health(self.crawler).failed(exc)
            return False
        return True

    def run_counts(self, stats: dict[str, Any], reason: str) -> RunCounts:
        """Every process's counts in this crawl, by worker id — this process's own as they are now (its last
        additions to the tally may have been refused: a full Redis); when Redis cannot be reached, or lost the
        crawl (restarted without persistence), the planner's own counts only, and the run fails with that
        reason."""
        run_id = self.recorded_run or 0
        held = self.holds_run(run_id)
        by_worker = self.counts_by_worker() if held else None
        if by_worker is not None and self.worker_id is not None:  # its own counts as they are now, tallied or not
            own = {key: value for key, value in stats.items() if _shared_count(key, value)}
            by_worker[self.worker_id] = {**by_worker.get(self.worker_id, {}), **own}
        if by_worker is None:
            lost = "the frontier lost this crawl (Redis restarted empty?)"
            problem = "frontier unreachable" if held is None else lost
            logger.error(
                "%s: crawl #%s records this process's counts only; the next crawl reads its listings again",
                problem,
                run_id,
            )
            by_worker = {"this process": stats}
            reason = "frontier_unreachable" if held is None else "frontier_lost"
        return RunCounts(counters.combined(by_worker.values()), by_worker, reason)

    def holds_run(self, run_id: int) -> bool | None:
        """Whether the frontier still holds crawl `run_id` (False: Redis lost it, e.g. restarted without
        persistence; None: Redis cannot be reached)."""
        try:
            held = self.client.hget(self.params_key, "run_id")
        except redis.RedisError:
            return None
        return held is not None and int(held) == run_id

    def run_id(self) -> int | None:
        """The run this crawl's articles belong to: the planner's row, once a planner named one."""
        return self._option("run_id", 0) or self.recorded_run

    def tally(self, worker_id: str, stats: dict[str, Any]) -> None:
        """Add what this process counted since its last call to the crawl's tally, under `worker_id`."""
        self.worker_id = worker_id
        args: list[Any] = []
        pushed: dict[str, Any] = {}
        for key, value in stats.items():
            if not _shared_count(key, value) or self._pushed.get(key) == value:
                continue
            op = counters.how_combined(key)
            op = "set" if op == "extend" else op  # each process's list in its own field; combined() merges them
            if op == "add":
                args += [f"{worker_id}{_SEP}{key}", op, value - self._pushed.get(key, 0)]
            else:
                args += [f"{worker_id}{_SEP}{key}", op, value]
            pushed[key] = value
        if args:
            self._merge(keys=[self.tally_key], args=args)
            self._pushed.update(pushed)  # only once Redis has them: a failed merge is sent again whole

    def counts_by_worker(self) -> dict[str, dict[str, Any]] | None:
        """Each process's counts in this crawl, as stats dumps (numbers as numbers), by worker id; None when
        Redis cannot be reached."""
        by_worker: dict[str, dict[str, Any]] = {}
        try:
            tally = self.client.hgetall(self.tally_key)
        except redis.RedisError:
            return None
        for raw_field, raw in tally.items():
            worker_id, _, key = as_text(raw_field).partition(_SEP)
            by_worker.setdefault(worker_id, {})[key] = _number(as_text(raw))
        return by_worker

    def outlet_counts(self) -> dict[str, Any]:
        """The crawl's per-outlet counts, every process's together, as a stats dump's by-outlet keys."""
        every = counters.combined((self.counts_by_worker() or {}).values())
        return {key: value for key, value in every.items() if key.startswith(counters.BY_OUTLET)}


def _shared_count(key: str, value: Any) -> bool:
    """Whether a stats key is one of the counts a run's row is made of."""
    if value is None:
        return False
    if not key.startswith(counters.PREFIX) and key not in _SCRAPY_COUNTS and not key.startswith(_SCRAPY_COUNT_PREFIXES):
        return False
    return counters.how_combined(key) != "add" or isinstance(value, int | float)


def _number(value: str) -> Any:
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number
