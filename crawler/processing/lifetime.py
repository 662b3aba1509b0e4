"""Extraction worker processes that end with the crawl that started them, however the crawl ends."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <sys/prctl.h>
CRAWL_PID_VARIABLE = "NEWSWIRE_CRAWL_PID"  # set for the fork server: the crawl it belongs to
WATCH_SECONDS = 1.0  # how often a worker checks that its parent is still there (where prctl is missing)


def die_with_parent(parent_pid: int, *, watch: bool = True, crawl_pid: int | None = None) -> None:
    """Initializer of a worker process: be killed when the parent dies (kill -9, OOM killer, cron timeout).

    On Linux the kernel does it (prctl PR_SET_PDEATHSIG); with `watch` a daemon thread also watches the parent
    (a process that forks later, like a fork server, should not have threads). A worker forked by a fork
    server also names the crawl (`crawl_pid`): it exits at once if the crawl is already gone — the fork server
    can die with the crawl before the worker has told the kernel — and its watch covers the crawl too.
    Without this, workers of a killed crawl live on under PID 1.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            logger.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if os.getppid() != parent_pid or (crawl_pid is not None and gone(crawl_pid)):  # died before we were told
        os._exit(1)
    if watch:
        threading.Thread(target=_watch, args=(parent_pid, crawl_pid), name="parent-watch", daemon=True).start()


def gone(pid: int) -> bool:
    """True when process `pid` has ended (a zombie, killed and not yet reaped by its parent, counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return False  # no /proc: alive as far as we can tell


def _watch(parent_pid: int, crawl_pid: int | None) -> None:
    while os.getppid() == parent_pid and (crawl_pid is None or not gone(crawl_pid)):
        time.sleep(WATCH_SECONDS)
    os._exit(1)
