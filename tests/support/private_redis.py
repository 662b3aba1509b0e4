"""A redis-server of a test's own on a free loopback port: killed with kill -9 and started again on the same
port (outage tests), or with a tiny `maxmemory` (a full frontier)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from crawler.frontier.connection import FrontierKeys
from crawler.frontier.leases import LeasedQueue, QueueSizes
from tests.support.db import redis_absent


class PrivateRedis:
    """A redis-server of this test's own on a free loopback port, that the test can kill -9 and start again on
    the same port: with AOF (fsync at every write) in `directory`, or keeping nothing; `maxmemory` in bytes
    (None: no limit) with the `noeviction` policy, Redis's default, so a full server refuses writes."""

    def __init__(self, directory: Path, *, persistent: bool, maxmemory: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            redis_absent(FileNotFoundError("redis-server is not installed"))
        self.binary, self.directory, self.persistent, self.maxmemory = binary, directory, persistent, maxmemory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory), "--save", ""]
        options += ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        if self.maxmemory is not None:
            options += ["--maxmemory", str(self.maxmemory), "--maxmemory-policy", "noeviction"]
        self.process = subprocess.Popen([self.binary, *options], stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def set_maxmemory(self, maxmemory: int) -> None:
        """Change the limit of the running server (1: full at once; 0: no limit)."""
        client = self.client()
        try:
            client.config_set("maxmemory", maxmemory)
        finally:
            client.close()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def sizes(self, prefix: str = "outage") -> QueueSizes:
        client = self.client()
        try:
            return LeasedQueue(client, FrontierKeys(prefix)).sizes()
        finally:
            client.close()
