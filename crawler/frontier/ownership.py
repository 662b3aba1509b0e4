"""A frontier belongs to one database: the first planner or worker to use it stores the database's identity in
Redis, and a process of another database is refused before it queues anything (their counts, seen URLs and
runs would mix: one planner stored 54 of its 150 articles when two shared a prefix).

The identity is derived from PostgreSQL itself, stable for as long as the database lives and different for any
other: the cluster's `system_identifier` (pg_control_system(); the server's address and port when this role
may not read it), the database's name and oid, and the schema the tables live in (the first of the
search_path that exists) with its oid — so a database or schema dropped and made again is another database.

The same call is the frontier's first write of the process: a Redis that refuses writes (at its maxmemory)
is found here, before the crawl starts, not by a crawl that can queue nothing.
"""

from __future__ import annotations

import logging

import redis
from sqlalchemy import create_engine, text

from crawler.frontier.connection import FrontierKeys, FrontierUnavailable, as_text
from crawler.frontier.health import reason, refuses_writes

logger = logging.getLogger(__name__)

_CLUSTER = text(
    "SELECT CASE WHEN has_function_privilege('pg_control_system()', 'EXECUTE') "
    "THEN (SELECT system_identifier::text FROM pg_control_system()) "
    "ELSE coalesce(host(inet_server_addr()), 'local') || ':' || coalesce(inet_server_port()::text, '') END"
)
_DATABASE = text(
    "SELECT current_database(), (SELECT oid FROM pg_database WHERE datname = current_database()), "
    "coalesce(current_schema(), ''), coalesce((SELECT oid FROM pg_namespace WHERE nspname = current_schema()), 0)"
)
DATABASE_SETTING = "NEWSWIRE_FRONTIER_DATABASE"  # the identity of this process's database (set by `join_shared_crawl`)
# KEYS identity; ARGV ours. The identity the frontier holds (ours when it held none). Writes every time: a
# Redis that refuses writes refuses this one, before anything is queued.
_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return held end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
"""


class ForeignFrontier(ValueError):
    """The frontier belongs to another database."""


class FrontierRefusesWrites(FrontierUnavailable):
    """The frontier's Redis answers but refuses writes (maxmemory, read-only)."""


def database_identity(db_url: str) -> str:
    """The identity of the PostgreSQL database (and schema) at `db_url`: `cluster/database#oid/schema#oid`."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            cluster = connection.execute(_CLUSTER).scalar_one()
            database, database_oid, schema, schema_oid = connection.execute(_DATABASE).one()
    finally:
        engine.dispose()
    return f"{cluster}/{database}#{database_oid}/{schema or '-'}#{schema_oid}"


def identity_key(keys: FrontierKeys) -> str:
    return keys.key("database")


def claim(client: redis.Redis, keys: FrontierKeys, identity: str) -> None:
    """Make the frontier this database's, or check that it is (ForeignFrontier when another database holds it);
    a Redis error passes through. A running process calls it at every heartbeat: a Redis restarted empty is
    claimed again at once by the processes still at work, not by the next planner of any database."""
    held = as_text(client.eval(_CLAIM, 1, identity_key(keys), identity))
    if held != identity:
        raise ForeignFrontier(
            f"the frontier {keys.key('*')} belongs to another database ({held}), not this one ({identity}): "
            f"give each database its own NEWSWIRE_FRONTIER_PREFIX or Redis database (or DEL {identity_key(keys)} "
            "once that crawl's frontier is no longer wanted)"
        )


def claim_frontier(client: redis.Redis, keys: FrontierKeys, identity: str) -> None:
    """`claim`, with one-line errors for a command about to start: ForeignFrontier, FrontierRefusesWrites when
    Redis refuses the write, FrontierUnavailable when it does not answer."""
    try:
        claim(client, keys, identity)
    except redis.RedisError as exc:
        if refuses_writes(exc):
            raise FrontierRefusesWrites(
                f"the frontier refuses writes ({reason(exc)}): Redis is at its maxmemory or "
                "read-only; nothing was queued"
            ) from exc
        raise FrontierUnavailable(f"the frontier does not answer: {exc}") from exc
