"""The extraction worker pool a crawl and `newswire reextract` share: processes forked from a fork server that
loaded and warmed the extractor once (crawler/processing/warm.py), which die with the process that started them.

A worker starts in milliseconds and shares the extractor's memory with the others. The fork server is started
afresh (it inherits no open file, lock or connection of its parent) and the kernel kills it and its workers
when that parent dies (crawler/processing/lifetime.py). Elsewhere than on Linux, where the kernel cannot tie the fork
server's life to its parent's, workers are spawned and watch their parent themselves.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import sys
from concurrent.futures import ProcessPoolExecutor

from crawler.extract.citations import OutletDirectory
from crawler.processing.job import start_worker
from crawler.processing.lifetime import CRAWL_PID_VARIABLE


def worker_context() -> multiprocessing.context.BaseContext:
    """How extraction workers start: a fork server with the extractor preloaded (Linux), else spawn."""
    if not sys.platform.startswith("linux"):
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["crawler.processing.warm"])
    os.environ[CRAWL_PID_VARIABLE] = str(os.getpid())  # the fork server inherits it: whom it must die with
    return context


def extraction_pool(workers: int, directory: OutletDirectory | None) -> ProcessPoolExecutor:
    """`workers` extraction processes holding the citation `directory` (sent once per worker, not per page)."""
    return ProcessPoolExecutor(
        workers, mp_context=worker_context(), initializer=start_worker, initargs=(os.getpid(), directory)
    )
