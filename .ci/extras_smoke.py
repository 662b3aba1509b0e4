"""Smoke test of one of newswire's extras, run by .ci/newcomer with the Python of a virtual environment that
has newswire and that extra only (no test dependencies): the commands the extra serves must start and work.

    python .ci/extras_smoke.py postgres      # a crawl of the local news web into a fresh PostgreSQL database
    python .ci/extras_smoke.py distributed   # a shared crawl: a planner and a worker on Redis and PostgreSQL

PostgreSQL at $NEWSWIRE_TEST_PG_URL (a fresh database is made there and dropped), Redis at
$NEWSWIRE_TEST_REDIS_URL (a key prefix of its own, deleted afterwards). Prints one line per check; exits
non-zero on the first that fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crawler.demo import LOCAL_WEB_SETTINGS, NewsWeb, as_set_options

PG_URL = os.environ.get("NEWSWIRE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("NEWSWIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NEWSWIRE = str(Path(sys.executable).with_name("newswire"))  # the console script of this environment
FAST = as_set_options({**LOCAL_WEB_SETTINGS, "NEWSWIRE_EXTRACT_WORKERS": 0})
TIMEOUT = 300  # seconds any one command may take


def check(ok: bool, what: str, output: str = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        print(output[-4000:], file=sys.stderr)
        sys.exit(1)


def newswire(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NEWSWIRE, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database of this run's own; dropped afterwards."""
    name = f"newswire_smoke_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def new_articles(output: str) -> int:
    found = re.search(r"crawl #\d+ \w+: \d+ pages fetched, (\d+) new", output)
    return int(found.group(1)) if found else -1


def postgres(work: Path, web: NewsWeb, db_url: str) -> None:
    registry = str(web.write_registry(work / "sources.toml"))
    crawl = newswire("crawl", "--sources", registry, "--db", db_url, *FAST, cwd=work)
    output = crawl.stdout + crawl.stderr
    check(crawl.returncode in (0, 1) and new_articles(output) > 0, "[postgres] crawl into PostgreSQL", output)
    status = newswire("status", "--db", db_url, "--json", cwd=work)
    check(status.returncode == 0 and len(json.loads(status.stdout)["outlets"]) == 4, "[postgres] status", status.stderr)
    out = work / "corpus.jsonl"
    export = newswire("export", "--db", db_url, "--out", str(out), cwd=work)
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    check(export.returncode == 0 and len(lines) >= new_articles(output), "[postgres] export", export.stderr)


def distributed(work: Path, web: NewsWeb, db_url: str) -> None:
    import redis

    prefix = f"nw_smoke_{uuid.uuid4().hex[:10]}"
    registry = str(web.write_registry(work / "sources.toml"))
    shared = ["--sources", registry, "--db", db_url, "--frontier", REDIS_URL]
    shared += ["-s", f"NEWSWIRE_FRONTIER_PREFIX={prefix}"]
    client = redis.Redis.from_url(REDIS_URL)
    try:
        planner = subprocess.Popen([NEWSWIRE, "crawl", *shared, *FAST], cwd=work, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)  # fmt: skip
        worker = newswire("worker", *shared, *FAST, "--until-idle", cwd=work)
        planned, _ = planner.communicate(timeout=TIMEOUT)
    finally:
        keys = list(client.scan_iter(match=f"{{{prefix}}}:*"))
        if keys:
            client.delete(*keys)
        client.close()
    planned_ok = planner.returncode in (0, 1) and new_articles(planned) > 0
    check(planned_ok, "[distributed] crawl --frontier (the planner)", planned)
    check(worker.returncode == 0 and "worker" in worker.stdout + worker.stderr, "[distributed] worker", worker.stderr)


def main() -> None:
    extra = sys.argv[1] if len(sys.argv) > 1 else ""
    smoke = {"postgres": postgres, "distributed": distributed}.get(extra)
    if smoke is None:
        sys.exit("usage: extras_smoke.py postgres|distributed")
    with tempfile.TemporaryDirectory() as tmp, NewsWeb() as web, fresh_database() as db_url:
        smoke(Path(tmp), web, db_url)


if __name__ == "__main__":
    main()
