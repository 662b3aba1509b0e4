"""The frontier's request queue in Redis: a request is leased to a worker, not popped, so a worker that dies
(kill -9, a lost host) takes nothing with it.

scrapy-redis pops a request before fetching it: a worker killed mid-fetch loses its requests. Here a lease
moves the request into an in-flight set scored by its expiry; the worker acks it when done, a heartbeat
extends its leases, and whichever worker asks for work next re-queues the requests whose lease expired —
counting the tries, and setting a request aside (`dead`) after `max_tries`, so a page that kills workers is
reported instead of retried forever. Every step is one Lua script, atomic on the server, with the server's
clock (`TIME`): the workers' clocks never matter. A lease carries a token; an ack or extension with a stale
token (the lease expired and went to another worker) does nothing.

Layout (one frontier = one key prefix): `queue` (sorted set: id by priority, then by its rank among its
host's requests, so hosts take turns; `hosts` counts each host's requests), `delayed` (sorted
set: id by the time it may be sent), `data` (hash: id → serialized request), `score` (hash: id → its queue
score), `lease` (sorted set: id by lease expiry), `owner` (hash: id → lease token), `tries` (hash),
`dead` (hash: id → request), `seq` (counter).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from crawler.frontier.connection import FrontierKeys, as_text

logger = logging.getLogger(__name__)

PRIORITY_SPAN = 2**32  # queue score = -priority × this + rank in its host: higher priority first, hosts in turn
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

_PUSH = """
-- KEYS queue delayed data score seq hosts; ARGV payload priority delay_ms host
-- score: priority first, then the request's rank among its host's requests, so that hosts take turns (a
-- sitemap lists one host's pages in a row: in arrival order, every worker would queue behind one host's
-- politeness delay while the others idle)
local id = tostring(redis.call('INCR', KEYS[5]))
local rank = redis.call('HINCRBY', KEYS[6], ARGV[4], 1)
local score = -tonumber(ARGV[2]) * PRIORITY_SPAN + rank
redis.call('HSET', KEYS[3], id, ARGV[1])
redis.call('HSET', KEYS[4], id, score)
if tonumber(ARGV[3]) > 0 then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[3]), id)
else
  redis.call('ZADD', KEYS[1], score, id)
end
return id
""".replace("PRIORITY_SPAN", str(PRIORITY_SPAN))

_LEASE = (
    _NOW
    + """
-- KEYS queue delayed data score lease owner tries dead seq; ARGV worker lease_ms max_tries batch
local worker, lease_ms, max_tries, batch = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, batch)) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], id), id)
end
local requeued, dead = 0, 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, batch)) do
  redis.call('ZREM', KEYS[5], id)
  redis.call('HDEL', KEYS[6], id)
  if redis.call('HINCRBY', KEYS[7], id, 1) >= max_tries then
    redis.call('HSET', KEYS[8], id, redis.call('HGET', KEYS[3], id))
    redis.call('HDEL', KEYS[3], id) redis.call('HDEL', KEYS[4], id) redis.call('HDEL', KEYS[7], id)
    dead = dead + 1
  else
    redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], id), id)
    requeued = requeued + 1
  end
end
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then return {false, false, false, requeued, dead} end
local id = popped[1]
local token = worker .. ':' .. redis.call('INCR', KEYS[9])
redis.call('ZADD', KEYS[5], now + lease_ms, id)
redis.call('HSET', KEYS[6], id, token)
return {id, token, redis.call('HGET', KEYS[3], id), requeued, dead}
"""
)

_ACK = """
-- KEYS data score lease owner tries; ARGV id token
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1]) redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1]) redis.call('HDEL', KEYS[5], ARGV[1])
return 1
"""

_RELEASE = """
-- KEYS queue score lease owner; ARGV id token
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[2], ARGV[1]), ARGV[1])
return 1
"""

_EXTEND = (
    _NOW
    + """
-- KEYS lease owner; ARGV lease_ms id1 token1 id2 token2 ...
local kept = 0
for i = 2, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[i + 1] then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
    kept = kept + 1
  end
end
return kept
"""
)


@dataclass(frozen=True)
class Lease:
    """A request leased to this worker: its id in the frontier, the lease's token and the serialized request."""

    request_id: str
    token: str
    payload: bytes


@dataclass(frozen=True)
class QueueSizes:
    """What the frontier holds: waiting, waiting for their time, leased (in flight), set aside."""

    queued: int
    delayed: int
    leased: int
    dead: int


class LeasedQueue:
    """A frontier's requests in Redis, leased to workers (see the module's docstring)."""

    def __init__(
        self, client: redis.Redis, keys: FrontierKeys, *, lease_seconds: float = 120.0, max_tries: int = 3
    ) -> None:
        self.client = client
        self.lease_ms = max(1, round(lease_seconds * 1000))
        self.max_tries = max(1, max_tries)
        names = ("queue", "delayed", "data", "score", "lease", "owner", "tries", "dead", "seq", "hosts")
        self.key = {name: keys.key(name) for name in names}
        self._push, self._lease, self._ack = (client.register_script(s) for s in (_PUSH, _LEASE, _ACK))
        self._release, self._extend = client.register_script(_RELEASE), client.register_script(_EXTEND)
        self.requeued = self.dead = 0  # what this worker's lease calls found expired: re-queued, set aside

    def _keys(self, *names: str) -> list[str]:
        return [self.key[name] for name in names]

    def push(self, payload: bytes, priority: int = 0, delay: float = 0.0, host: str = "") -> str:
        """Queue a serialized request for `host`, to be leased `delay` seconds from now (by the Redis server's
        clock: the hosts' clocks never matter); its id. Within a priority, hosts take turns."""
        keys = self._keys("queue", "delayed", "data", "score", "seq", "hosts")
        args: list[bytes | str | int] = [payload, int(priority), max(0, round(delay * 1000)), host.lower()[:255]]
        return as_text(self._push(keys=keys, args=args))

    def lease(self, worker: str, batch: int = 100) -> Lease | None:
        """Lease the best waiting request to `worker` (re-queuing up to `batch` expired leases first)."""
        keys = self._keys("queue", "delayed", "data", "score", "lease", "owner", "tries", "dead", "seq")
        request_id, token, payload, requeued, dead = self._lease(
            keys=keys, args=[worker, self.lease_ms, self.max_tries, batch]
        )
        self.requeued += int(requeued)
        self.dead += int(dead)
        if int(dead):
            logger.warning("%d request(s) set aside after %d leases that ended without an ack", dead, self.max_tries)
        if request_id is None:
            return None
        return Lease(as_text(request_id), as_text(token), bytes(payload))

    def ack(self, lease: Lease) -> bool:
        """The request is done (fetched and handled, or given up): forget it. False when the lease was lost."""
        keys = self._keys("data", "score", "lease", "owner", "tries")
        return bool(self._ack(keys=keys, args=[lease.request_id, lease.token]))

    def release(self, lease: Lease) -> bool:
        """Hand an unfinished request back (a worker stopping cleanly), without counting a try."""
        keys = self._keys("queue", "score", "lease", "owner")
        return bool(self._release(keys=keys, args=[lease.request_id, lease.token]))

    def extend(self, leases: list[Lease]) -> int:
        """Heartbeat: renew these leases for another lease period; how many were still this worker's."""
        if not leases:
            return 0
        args: list[str | int] = [self.lease_ms]
        for lease in leases:
            args += [lease.request_id, lease.token]
        return int(self._extend(keys=self._keys("lease", "owner"), args=args))

    def sizes(self) -> QueueSizes:
        """How many requests wait, wait for their time, are leased and were set aside."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zcard(self.key["queue"])
            pipe.zcard(self.key["delayed"])
            pipe.zcard(self.key["lease"])
            pipe.hlen(self.key["dead"])
            queued, delayed, leased, dead = pipe.execute()
        return QueueSizes(queued, delayed, leased, dead)

    def dead_requests(self) -> list[bytes]:
        """The serialized requests set aside after `max_tries` leases ended without an ack."""
        return [v if isinstance(v, bytes) else v.encode() for v in self.client.hvals(self.key["dead"])]
