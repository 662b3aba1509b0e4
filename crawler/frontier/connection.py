"""The Redis client of a shared crawl, from a redis:// URL, and the key names of one frontier."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import redis
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings

FRONTIER_SETTING = "NEWSWIRE_FRONTIER"  # the frontier's redis:// URL; unset = a crawl of one process
PREFIX_SETTING = "NEWSWIRE_FRONTIER_PREFIX"  # its keys' prefix: one frontier per prefix

logger = logging.getLogger(__name__)


class FrontierUnavailable(Exception):
    """The frontier's Redis cannot be reached or the URL is not a Redis URL (one line, no traceback)."""


def connect(url: str) -> redis.Redis:
    """A Redis client for `url` (redis://, rediss:// or unix://), checked with a PING."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise FrontierUnavailable(f"--frontier must be a redis:// URL, not {url!r}")
    client = redis.Redis.from_url(
        url, socket_connect_timeout=5, socket_timeout=10, socket_keepalive=True, health_check_interval=30
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        raise FrontierUnavailable(f"the frontier at {url} does not answer: {exc}") from exc
    return client


@dataclass(frozen=True)
class FrontierKeys:
    """Every key of one frontier, under one prefix (a hash tag, so a Redis Cluster keeps them on one node)."""

    prefix: str = "newswire"

    def key(self, name: str) -> str:
        return f"{{{self.prefix}}}:{name}"


@functools.cache
def shared_client(url: str) -> redis.Redis:
    """One client (one connection pool) per frontier URL for all of a process's components."""
    return connect(url)


def frontier_of(settings: BaseSettings) -> tuple[redis.Redis, FrontierKeys]:
    """The crawl's frontier client and keys from its settings; NotConfigured when it has no frontier."""
    url = settings.get(FRONTIER_SETTING)
    if not url:
        raise NotConfigured("no shared frontier (NEWSWIRE_FRONTIER is not set)")
    return shared_client(url), FrontierKeys(settings.get(PREFIX_SETTING) or "newswire")


def as_text(value: bytes | str) -> str:
    """A Redis reply as text (redis-py returns bytes unless the client decodes responses)."""
    return value.decode() if isinstance(value, bytes) else value
