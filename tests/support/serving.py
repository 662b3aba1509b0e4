"""The feed server as tests reach it: the app on `newswire serve`'s waitress server (feeds.web.connections: deadlines
and connections per client) at a loopback port in a background thread, plain HTTP requests to it, and
newsboat, a real feed reader, run against it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path

import pytest
from waitress.wasyncore import close_all

from feeds.web.app import make_app
from feeds.web.connections import create_server

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """Status, headers and body of one request (errors and 304 included)."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


@contextmanager
def serving(db_url: str, port: int = 0, **options) -> Iterator[str]:
    """The app on waitress at a loopback port (0: a free one), in a background thread; yields its root URL."""
    app = make_app(db_url, **options)
    sockets: dict = {}
    server = create_server(app, "127.0.0.1", port, 2, socket_map=sockets)  # the server `newswire serve` runs
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:  # a socket closed under poll() while stopping, as WebTest's StopableWSGIServer allows
            if not stopping.is_set():
                raise

    root = f"http://127.0.0.1:{server.effective_port}/"
    app.listening_at(root)  # as feeds.web.app.serve does once it listens
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield root
    finally:
        stopping.set()
        server.task_dispatcher.shutdown()  # requests in progress finish first
        # the sockets are closed by the server's own thread: closing them under its poll() races (EBADF)
        server.trigger.pull_trigger(lambda: close_all(sockets, ignore_all=True))
        thread.join(timeout=10)
        assert not thread.is_alive(), "the server thread did not stop"
        app.close()


def newsboat() -> str:
    """The newsboat binary; skipped when absent (failed instead when NEWSWIRE_REQUIRE_SERVICES=1, as in CI)."""
    path = shutil.which("newsboat")
    if path is None:
        if os.environ.get("NEWSWIRE_REQUIRE_SERVICES") == "1":
            pytest.fail("newsboat required (NEWSWIRE_REQUIRE_SERVICES=1) but not installed (Debian: newsboat)")
        pytest.skip("newsboat not installed (Debian package newsboat): the real-reader test needs it")
    return path


def newsboat_items(binary: str, urls: list[str], home: Path) -> dict[str, set[tuple[str, str, int]]]:
    """Run `newsboat -x reload` on `urls` with an isolated home; its items as (url, title, pubDate) per feed."""
    for sub in ("config", "data", "cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "urls").write_text("".join(f"{url}\n" for url in urls))
    error_log = home / "error.log"
    (home / "config" / "newsboat.conf").write_text(f'error-log "{error_log}"\nreload-threads 2\n')
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TERM": "dumb", "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CACHE_HOME": str(home / "cache")}  # fmt: skip
    cache = home / "cache.db"
    command = [binary, "-x", "reload", "-u", str(home / "urls"), "-C", str(home / "config" / "newsboat.conf")]
    result = subprocess.run([*command, "-c", str(cache)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert error_log.exists() and error_log.read_text() == "", error_log.read_text()  # it exits 0 on errors
    items: dict[str, set[tuple[str, str, int]]] = {url: set() for url in urls}
    connection = sqlite3.connect(cache)
    try:
        for feed, url, title, date in connection.execute("SELECT feedurl, url, title, pubDate FROM rss_item"):
            items[feed].add((url, title, date))
    finally:
        connection.close()
    return items


def copy_database(source: Path, target: Path) -> str:
    """A copy of the SQLite file `source` at `target` (SQLite's backup: consistent while others read it); its URL."""
    original, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        original.backup(copy)
    finally:
        original.close()
        copy.close()
    return f"sqlite:///{target}"
