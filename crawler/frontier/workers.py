"""The list of a frontier's workers in Redis: who they are, their last heartbeat, what they did.

Each worker keeps one line (a hash field: its id → JSON) fresh from its heartbeat; `newswire status` reads
the list and calls a worker gone when its heartbeat is older than its lease (killed, or its host lost: from
then on its requests go to other workers), stopped when it left. Lines of workers gone for a day are dropped
by the next worker to join.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

import redis

from crawler import stats as counters
from crawler.frontier.connection import FrontierKeys

logger = logging.getLogger(__name__)

FORGET_AFTER = 86400.0  # a gone worker's line is dropped after this long


@dataclass
class WorkerLine:
    """One worker as `newswire status` shows it."""

    worker_id: str
    host: str
    pid: int
    started: float
    heartbeat: float
    pages: int = 0
    errors: int = 0
    held: int = 0
    left: bool = False
    lease_seconds: float = 120.0

    def state(self, now: float) -> str:
        if self.left:
            return "stopped"
        return "gone" if now - self.heartbeat > self.lease_seconds else "working"


class WorkerRoster:
    """This worker's line in the frontier's worker list, and the list."""

    def __init__(self, client: redis.Redis, keys: FrontierKeys, lease_seconds: float = 120.0) -> None:
        self.client = client
        self.key = keys.key("workers")
        host = socket.gethostname()[:64]
        worker_id = f"{host}:{os.getpid()}:{secrets.token_hex(3)}"
        self.line = WorkerLine(worker_id, host, os.getpid(), time.time(), 0.0, lease_seconds=lease_seconds)

    @property
    def worker_id(self) -> str:
        return self.line.worker_id

    def join(self) -> None:
        now = time.time()
        stale = [line.worker_id for line in self.lines() if now - line.heartbeat > FORGET_AFTER]
        if stale:
            self.client.hdel(self.key, *stale)
        self._write(now)

    def beat(self, stats: dict[str, Any], held: int) -> None:
        self.line.pages = int(stats.get("response_received_count", 0))
        self.line.errors = counters.total(stats, "errors") if stats else 0
        self.line.held = held
        self._write(time.time())

    def leave(self, stats: dict[str, Any]) -> None:
        self.line.left = True
        self.beat(stats, 0)

    def _write(self, now: float) -> None:
        self.line.heartbeat = now
        self.client.hset(self.key, self.line.worker_id, json.dumps(asdict(self.line)))

    def lines(self) -> list[WorkerLine]:
        """Every worker of the frontier, oldest first."""
        found = []
        for raw in self.client.hvals(self.key):
            try:
                found.append(WorkerLine(**json.loads(raw)))
            except (ValueError, TypeError):
                continue
        return sorted(found, key=lambda line: line.started)
