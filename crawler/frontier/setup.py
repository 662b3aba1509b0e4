"""The Scrapy settings that make a crawl one worker of a shared crawl."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

from crawler import settings
from crawler.extensions.coordination import COORDINATION_SETTING
from crawler.extensions.fetch_state import FETCH_STATE_SETTING
from crawler.frontier.connection import FRONTIER_SETTING, FrontierKeys, connect
from crawler.frontier.ownership import DATABASE_SETTING, claim_frontier, database_identity
from crawler.frontier.scheduler import STAY_SETTING
from crawler.frontier.shared_coordination import PLANS_SETTING


class NotShareable(ValueError):
    """A database a shared crawl cannot use (SQLite: one machine, one writer)."""


def check_shared_database(db_url: str) -> None:
    """A shared crawl needs a server database: SQLite is refused with the reason."""
    if make_url(db_url).get_backend_name() != "postgresql":
        raise NotShareable(
            f"a shared crawl (--frontier) needs a server database every worker can reach "
            f"(postgresql+psycopg://…), not {make_url(db_url).get_backend_name()}"
        )


def join_shared_crawl(frontier_url: str, db_url: str, prefix: str) -> str:
    """Check that a planner or worker of the database at `db_url` may use the frontier (and make the frontier
    that database's on first use), before it queues anything; the database's identity. NotShareable (SQLite),
    FrontierUnavailable (no answer; FrontierRefusesWrites: Redis at its maxmemory), ForeignFrontier (another
    database's)."""
    check_shared_database(db_url)
    client = connect(frontier_url)
    try:
        identity = database_identity(db_url)
        claim_frontier(client, FrontierKeys(prefix), identity)
    finally:
        client.close()
    return identity


def frontier_settings(frontier_url: str, *, plans: bool, stay: bool, database: str | None = None) -> dict[str, Any]:
    """Scheduler, dupefilter, host clock, coordination and listing bookkeeping of a shared crawl's process;
    `plans`: it plans the crawl (else a worker); `stay`: an idle worker waits for work; `database`: the identity
    of its database, which its heartbeat keeps claiming the frontier for (`join_shared_crawl`)."""
    return {
        FRONTIER_SETTING: frontier_url,
        DATABASE_SETTING: database,
        PLANS_SETTING: plans,
        STAY_SETTING: stay,
        COORDINATION_SETTING: "crawler.frontier.shared_coordination.SharedCoordination",
        FETCH_STATE_SETTING: "crawler.frontier.fetch_state.SharedFetchState",
        "SCHEDULER": "crawler.frontier.scheduler.FrontierScheduler",
        "DUPEFILTER_CLASS": "crawler.frontier.dupefilter.ExpiringDupeFilter",
        # the shared clock spaces a host's requests for every process; Scrapy's jitter (±50 %) on top of it
        # would only make one process's request late and bunch it up with the next process's
        "DOWNLOAD_DELAY_JITTER": 0,
        # the shared per-host clock: after the HTTP cache, just before the download, so a slot is taken late
        "DOWNLOADER_MIDDLEWARES": {**settings.DOWNLOADER_MIDDLEWARES, "crawler.frontier.clock.SharedPoliteness": 950},
    }
