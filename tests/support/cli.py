"""Run `newswire` from a test: in this process (CliRunner) for every command that does not crawl, in a
process of its own for those that do (one crawl per process: Twisted's reactor cannot restart)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from crawler.cli import cli
from crawler.demo import LOCAL_WEB_SETTINGS, as_set_options
from tests.support.paths import PROJECT

# `-s` options for a crawl of the loopback news web: its politeness settings, and no back-off between retries
FAST_CRAWL = tuple(as_set_options({**LOCAL_WEB_SETTINGS, "NEWSWIRE_RETRY_BACKOFF_BASE": 0}))


def newswire(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """The result of `newswire ARGS` run in this process (in `cwd`, with `env` added to the environment):
    real exit codes, stdout and stderr apart."""
    runner = CliRunner(env=env)
    with contextlib.chdir(cwd or os.getcwd()):
        return runner.invoke(cli, list(args), catch_exceptions=False)


def run_newswire(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run `newswire ARGS` in a fresh process (`python -m crawler`): for commands that crawl."""
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        capture_output=True,
        text=True,
        cwd=cwd or PROJECT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
