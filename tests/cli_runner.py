"""Run `newswire` commands in this process with click's CliRunner: real exit codes, stdout and stderr apart.

Commands that run a crawl still need their own process (Twisted's reactor cannot restart): use
tests.conftest.run_newswire for those.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from click.testing import CliRunner, Result

from crawler.cli import cli


def newswire(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """The result of `newswire ARGS` run in this process (in `cwd`, with `env` added to the environment)."""
    runner = CliRunner(env=env)
    with contextlib.chdir(cwd or os.getcwd()):
        return runner.invoke(cli, list(args), catch_exceptions=False)
