"""A shared crawl's view of its listings, in Redis: which listings' articles are all handled, by any worker.

A listing's validators are saved only once every article it led to was stored or given up (so a 304 next
time hides nothing: crawler/extensions/fetch_state.py). In a shared crawl the worker that reads a feed is rarely the
one that fetches its articles, so the counts of outstanding articles per listing, the listings left
incomplete, the child sitemaps' parents and the fresh validators live in the frontier's Redis, and every
worker that closes saves the validators of the listings complete so far (the last one to close saves them
all). The planner clears them when it plans a new crawl.

While Redis cannot be reached, a write that fails marks the listings it concerned incomplete in this
process, and they go to Redis's incomplete set with the next write that succeeds: a listing whose counts
missed a write is read in full by the next crawl instead of being settled on wrong counts.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict

import redis
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.extensions.database import crawl_store
from crawler.extensions.fetch_state import FetchState
from crawler.frontier.connection import FrontierKeys, as_text, frontier_of
from storage.db import Store
from storage.validators import Validators, load_validator, load_validators

logger = logging.getLogger(__name__)

_PARTS = ("fresh", "pending", "incomplete", "parents")


class StoredValidators(dict[str, Validators]):
    """The stored validators, and those of URLs stored since they were loaded, read when first asked for: a
    worker runs for many crawls, and the crawls after its start store the validators it needs."""

    def __init__(self, store: Store, loaded: dict[str, Validators]) -> None:
        super().__init__(loaded)
        self.store = store

    def get(self, url: str, default: Validators | None = None) -> Validators | None:  # type: ignore[override]
        if url not in self:
            with self.store.sessions() as session:
                found = load_validator(session, url)
            if found is None:
                return default
            self[url] = found
        return super().get(url, default)


class SharedFetchState(FetchState):
    """FetchState whose per-crawl bookkeeping is shared by every worker through Redis."""

    kept_elsewhere = True  # the last worker to close saves what the others fetched

    def __init__(self, client: redis.Redis, keys: FrontierKeys, stored: dict[str, Validators] | None = None) -> None:
        super().__init__(stored)
        self.client = client
        self.key = {part: keys.key(f"fetch:{part}") for part in _PARTS}
        self.unsynced: set[str] = set()  # listings whose bookkeeping missed a write: incomplete, not yet in Redis
        self._failing = False

    def _write(self, write: Callable[[], object], *listings: str | None) -> None:
        """Run a Redis write; if Redis fails, the listings it concerned are incomplete (see the module)."""
        try:
            if self.unsynced:
                self.client.sadd(self.key["incomplete"], *self.unsynced)
                self.unsynced.clear()
            write()
        except redis.RedisError as exc:
            self.unsynced.update(listing for listing in listings if listing)
            if not self._failing:
                logger.warning("frontier write failed: listings read meanwhile will be read in full next time: %s", exc)
            self._failing = True
        else:
            self._failing = False

    @classmethod
    def load_shared(cls, store: Store, client: redis.Redis, keys: FrontierKeys) -> SharedFetchState:
        with store.sessions() as session:
            state = cls(client, keys)
            state.stored = StoredValidators(store, load_validators(session))
            return state

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedFetchState:
        return cls.load_shared(crawl_store(crawler), *frontier_of(crawler.settings))

    @staticmethod
    def clear(client: redis.Redis, keys: FrontierKeys) -> None:
        """Forget the last crawl's bookkeeping (the planner, before it plans a new crawl)."""
        client.delete(*(keys.key(f"fetch:{part}") for part in _PARTS))

    def _share(self, url: str) -> None:
        if url in self.fresh:
            fresh = json.dumps(asdict(self.fresh[url]))
            self._write(lambda: self.client.hset(self.key["fresh"], url, fresh), url)

    def record(self, url: str, response: Response, body: str | None = None) -> None:
        super().record(url, response, body)
        self._share(url)

    def carry(self, url: str) -> Validators | None:
        stored = super().carry(url)
        self._share(url)
        return stored

    def set_links(self, url: str, links: list[str]) -> None:
        super().set_links(url, links)
        self._share(url)

    def set_poll_hint(self, url: str, seconds: int | None) -> None:
        super().set_poll_hint(url, seconds)
        self._share(url)

    def child(self, child_url: str, parent_url: str) -> None:
        if child_url != parent_url:
            self._write(lambda: self.client.hsetnx(self.key["parents"], child_url, parent_url), child_url, parent_url)

    def article_scheduled(self, listing: str | None) -> None:
        if listing:
            self._write(lambda: self.client.hincrby(self.key["pending"], listing, 1), listing)

    def article_done(self, listing: str | None, retry_later: bool = False) -> None:
        if listing:
            self._write(lambda: self.client.hincrby(self.key["pending"], listing, -1), listing)
            if retry_later:
                self.mark_incomplete(listing)

    def mark_incomplete(self, listing: str | None) -> None:
        if listing:
            self._write(lambda: self.client.sadd(self.key["incomplete"], listing), listing)

    def complete(self) -> list[Validators]:
        """Fresh validators of the listings every worker has finished with (see FetchState.complete); none
        while Redis cannot be reached (they cost one full read next time, nothing more)."""
        try:
            return self._complete()
        except redis.RedisError as exc:
            logger.error("frontier failed: no listing's validators saved by this process: %s", exc)
            return []

    def _complete(self) -> list[Validators]:
        if self.unsynced:
            self.client.sadd(self.key["incomplete"], *self.unsynced)
            self.unsynced.clear()
        self.fresh = {
            as_text(url): Validators(**json.loads(raw)) for url, raw in self.client.hgetall(self.key["fresh"]).items()
        }
        self.pending = Counter({as_text(k): int(v) for k, v in self.client.hgetall(self.key["pending"]).items()})
        self.incomplete = {as_text(url) for url in self.client.smembers(self.key["incomplete"])}
        self.parents = {as_text(k): as_text(v) for k, v in self.client.hgetall(self.key["parents"]).items()}
        return super().complete()
