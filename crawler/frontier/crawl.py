"""What the processes of one shared crawl count together in Redis: articles per outlet against the crawl's
limit, every process's counts (pages, requests, stored, errors, and each outlet's — what adaptive polling
reads), and the start of a new crawl (the planner clears the last one's counts and listing bookkeeping and
names the crawl's run, whose row every process's articles point to).

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
from scrapy.settings import BaseSettings

from crawler import stats as counters
from crawler.frontier.connection import FrontierKeys, as_text, frontier_of
from crawler.frontier.dupefilter import ExpiringDupeFilter
from crawler.frontier.fetch_state import SharedFetchState

logger = logging.getLogger(__name__)

PARAMS_TTL = 1.0  # seconds a process trusts the crawl options it read
# the Scrapy stats a run's row is made of, besides newswire's own (crawler/extensions.py's run_counts)
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


class SharedCrawl:
    """One shared crawl's counters."""

    def __init__(self, client: redis.Redis, keys: FrontierKeys) -> None:
        self.client = client
        self.keys = keys
        self.scheduled_key = keys.key("scheduled")
        self.tally_key = keys.key("outlet_counts")
        self.params_key = keys.key("crawl_options")
        self.followed_key = keys.key("followed")
        self._params: tuple[float, dict[str, int]] = (-PARAMS_TTL - 1.0, {})
        self._merge = client.register_script(_MERGE)
        self._pushed: dict[str, Any] = {}  # this process's outlet counts as last added to the tally

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> SharedCrawl:
        return cls(*frontier_of(settings))

    def new_crawl(self, limit: int, follow_depth: int, planned: set[str], run_id: int = 0) -> None:
        """The planner starts a crawl: the last crawl's counts and listing bookkeeping are forgotten, and the
        crawl's options are set for every worker (a worker reading a listing applies the planner's --limit;
        one storing an article follows its citations to the planner's --depth and records it in run
        `run_id`)."""
        self.client.delete(self.scheduled_key, self.tally_key, self.followed_key)
        self.client.hset(self.params_key, mapping={"limit": limit, "follow_depth": follow_depth, "run_id": run_id})
        if planned:  # a cited outlet the planner crawls anyway is not followed again
            self.client.sadd(self.followed_key, *planned)
        SharedFetchState.clear(self.client, self.keys)
        ExpiringDupeFilter.new_crawl(self.client, self.keys)

    def option(self, name: str, default: int) -> int:
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

    def first_to_follow(self, slug: str) -> bool:
        """True for the one process that first follows this cited outlet in this crawl (none while Redis is
        away: the citation is followed by a later crawl)."""
        try:
            return bool(self.client.sadd(self.followed_key, slug))
        except redis.RedisError:
            return False

    def within_limit(self, slug: str, limit: int) -> bool:
        """Take one of the outlet's `limit` article requests for this crawl, if one is left. Raises
        redis.RedisError while Redis is away (the caller leaves the article to the next crawl)."""
        taken = int(self.client.hincrby(self.scheduled_key, slug, 1))
        if taken > limit:
            self.client.hincrby(self.scheduled_key, slug, -1)
            return False
        return True

    def holds_run(self, run_id: int) -> bool | None:
        """Whether the frontier still holds crawl `run_id` (False: Redis lost it, e.g. restarted without
        persistence; None: Redis cannot be reached)."""
        try:
            held = self.client.hget(self.params_key, "run_id")
        except redis.RedisError:
            return None
        return held is not None and int(held) == run_id

    def run_id(self) -> int | None:
        """The crawl run this crawl's articles belong to (the planner's row), if a planner named one."""
        return self.option("run_id", 0) or None

    def add_counts(self, worker_id: str, stats: dict[str, Any]) -> None:
        """Add what this process counted since its last call to the crawl's tally, under `worker_id`."""
        args: list[Any] = []
        pushed: dict[str, Any] = {}
        for key, value in stats.items():
            if not _shared_count(key, value) or self._pushed.get(key) == value:
                continue
            op = counters.how_combined(key)
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
    if value is None or key == counters.RUN_ID:
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
