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
WATCH_SECONDS = 1.0  # how often a worker checks that its parent is still there (where prctl is missing)


def die_with_parent(parent_pid: int, *, watch: bool = True) -> None:
    """Initializer of a worker process: be killed when the parent dies (kill -9, OOM killer, cron timeout).

    On Linux the kernel does it (prctl PR_SET_PDEATHSIG); with `watch` a daemon thread also watches the parent
    and ends the worker once it is gone (a process that forks later, like a fork server, should not have
    threads). Without this, workers of a killed crawl live on under PID 1.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            logger.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if os.getppid() != parent_pid:  # the parent died before the kernel was told
        os._exit(1)
    if watch:
        threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_SECONDS)
    os._exit(1)
