"""`newswire schedule run`: a foreground scheduler that starts one crawl process whenever outlets are due.

One crawl is one OS process (Twisted's reactor cannot be restarted), so each round starts
`python -m crawler crawl --due` (then `feeds`, when a feeds directory is set; scheduling.commands
spells both) as a child process and sleeps until the next outlet is due. SIGTERM or SIGINT wakes it:
a running crawl gets one SIGTERM, which Scrapy answers by finishing the requests in flight and
closing cleanly (its run is recorded as interrupted), and the scheduler exits 0 (or the code of the last crawl
that failed or crashed). The child runs in
its own session so that a terminal's Ctrl-C reaches it once, through us; a second signal is
forwarded too, and Scrapy then stops at once.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scheduling.commands import EXIT_COMPLETE, EXIT_CRASHED, crawl_command, feeds_command, publishes_after
from scheduling.freshness import next_due
from scheduling.lock import EXIT_LOCKED
from storage.db import Store

logger = logging.getLogger(__name__)

MAX_SLEEP = timedelta(minutes=10)  # re-read the registry and the database at least this often
LOCKED_RETRY = timedelta(minutes=1)  # another crawl holds the database: try again after this
MIN_GAP = timedelta(seconds=30)  # never start crawls back to back, whatever the due times say


@dataclass
class SchedulerConfig:
    """What `schedule run` needs: where the registry and database are, and what to run."""

    sources: Path
    db_url: str
    feeds_dir: Path | None = None
    base_url: str | None = None
    crawl_args: Sequence[str] = ()  # extra `crawl` options, such as -s KEY=VALUE
    log_args: Sequence[str] = ()  # logging options for every child (--log-file, -q, -v)
    max_rounds: int | None = None  # stop after this many crawls (tests, one-shot use)
    python: str = field(default_factory=lambda: sys.executable)


class Scheduler:
    """Run due crawls in child processes until told to stop."""

    def __init__(self, config: SchedulerConfig, outlet_slugs: Callable[[], list[str]]) -> None:
        self.config = config
        self.outlet_slugs = outlet_slugs  # re-read each round: the registry may change under us
        self.stopping = threading.Event()
        self.exit_code = EXIT_COMPLETE
        self.child: subprocess.Popen[bytes] | None = None
        self.rounds = 0

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the scheduler (and, once, the running crawl)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.stopping.is_set():  # a second signal: Scrapy's second SIGTERM stops the crawl at once
            logger.warning("%s received again: stopping the running crawl now", signal.Signals(signum).name)
        else:
            logger.warning("%s received: stopping after the running crawl closes", signal.Signals(signum).name)
            self.stopping.set()
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def run(self) -> int:
        """Loop until stopped (or max_rounds crawls ran); return the process exit code: 0, or the code of the
        last crawl that failed (3) or crashed (70)."""
        while not self.stopping.is_set():
            code = self._run_child(self._crawl_command())
            self.rounds += 1
            if code == EXIT_LOCKED and not self._last_round():
                logger.warning("another crawl holds the database; trying again in %s", LOCKED_RETRY)
                self.stopping.wait(LOCKED_RETRY.total_seconds())
                continue
            if not publishes_after(code) and code != EXIT_LOCKED:
                self.exit_code = code  # the scheduler's own exit code when it stops: the last crawl that went wrong
                what = "crashed (a bug: its traceback is in the log)" if code == EXIT_CRASHED else "failed"
                logger.error("crawl %s, exit %d: feeds not written this round", what, code)
            elif self.config.feeds_dir is not None and not self.stopping.is_set():
                self._run_child(self._feeds_command(self.config.feeds_dir))
            if self._last_round():
                break
            self._sleep_until_due()
        logger.info("scheduler stopped after %d crawl(s)", self.rounds)
        return self.exit_code

    def _last_round(self) -> bool:
        return self.config.max_rounds is not None and self.rounds >= self.config.max_rounds

    def _crawl_command(self) -> list[str]:
        c = self.config
        return crawl_command(c.python, sources=c.sources, db_url=c.db_url, due=True, extra=[*c.crawl_args, *c.log_args])

    def _feeds_command(self, feeds_dir: Path) -> list[str]:
        c = self.config
        return feeds_command(c.python, db_url=c.db_url, feeds_dir=feeds_dir, base_url=c.base_url, extra=c.log_args)

    def _run_child(self, command: list[str]) -> int:
        logger.info("running newswire %s", command[3])
        self.child = subprocess.Popen(command, start_new_session=True)
        if self.stopping.is_set():  # the signal came while it was starting: it never got its SIGTERM
            self.child.send_signal(signal.SIGTERM)
        code = self.child.wait()
        self.child = None
        logger.info("%s exited %d", command[3], code)
        return code

    def _sleep_until_due(self) -> None:
        now = datetime.now(UTC)
        with Store(self.config.db_url) as store, store.sessions() as session:  # the crawls migrate it
            due = next_due(session, self.outlet_slugs())
        wake = min(max(due or now, now + MIN_GAP), now + MAX_SLEEP)
        seconds = max(0.0, (wake - now).total_seconds())
        if seconds:
            logger.info("next crawl due at %s", wake.isoformat(timespec="seconds"))
        self.stopping.wait(seconds)
