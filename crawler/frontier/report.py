"""What `newswire status --frontier` shows of a shared crawl: its workers and what its frontier holds."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import redis

from crawler.frontier.connection import FrontierKeys
from crawler.frontier.leases import LeasedQueue
from crawler.frontier.workers import WorkerRoster


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def frontier_report(client: redis.Redis, keys: FrontierKeys) -> dict[str, Any]:
    """The frontier's sizes and its workers (host, pid, state, last heartbeat, pages, errors), as JSON data."""
    now = time.time()
    workers = [
        {
            "id": line.worker_id,
            "host": line.host,
            "pid": line.pid,
            "state": line.state(now),
            "started_at": _iso(line.started),
            "last_heartbeat": _iso(line.heartbeat),
            "pages": line.pages,
            "errors": line.errors,
            "requests_held": line.held,
        }
        for line in WorkerRoster(client, keys).lines()
    ]
    return {"frontier": asdict(LeasedQueue(client, keys).sizes()), "workers": workers}


def frontier_text(report: dict[str, Any]) -> str:
    """The shared crawl's part of the status table."""
    sizes = report["frontier"]
    lines = [
        f"\nfrontier: {sizes['queued']} queued, {sizes['delayed']} waiting for their time, "
        f"{sizes['leased']} in flight, {sizes['dead']} set aside",
        f"{'worker':<34} {'state':<8} {'last heartbeat':<26} {'pages':>7} {'errors':>6}",
    ]
    for worker in report["workers"]:
        lines.append(
            f"{worker['id'][:34]:<34} {worker['state']:<8} {worker['last_heartbeat']:<26} "
            f"{worker['pages']:>7} {worker['errors']:>6}"
        )
    return "\n".join(lines)
