"""Start-up of `newswire crawl` on the demo web: seconds from exec to the first request the web answers, the
crawl's wall time, and the database engines and Alembic checks its main process makes.

Usage: python -m bench.crawl_startup [--rounds 5] [--trees . ../other-checkout]
Each tree (a checkout of newswire) runs on its own PYTHONPATH, rounds interleaved; prints medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawler.demo import LOCAL_WEB_SETTINGS, NewsWeb, as_set_options

PROBE = """
import atexit, os
if os.environ.get("NEWSWIRE_PROBE"):
    import sqlalchemy, sqlalchemy.engine, sqlalchemy.engine.create as create
    counts = {"engines": 0, "alembic": 0}
    original = create.create_engine
    def counting(*args, **kwargs):
        counts["engines"] += 1
        return original(*args, **kwargs)
    create.create_engine = sqlalchemy.create_engine = sqlalchemy.engine.create_engine = counting
    from alembic.runtime.migration import MigrationContext
    configure = MigrationContext.configure.__func__
    def configuring(cls, *args, **kwargs):
        counts["alembic"] += 1
        return configure(cls, *args, **kwargs)
    MigrationContext.configure = classmethod(configuring)
    @atexit.register
    def report():
        with open(os.environ["NEWSWIRE_PROBE"], "a") as out:
            out.write(f"{counts['engines']} {counts['alembic']}\\n")
"""


def one_crawl(tree: Path, probe_dir: Path) -> tuple[float, float, int, int]:
    """(seconds to the first request, wall seconds, engines, Alembic checks) of one crawl of a fresh web."""
    with NewsWeb() as web, tempfile.TemporaryDirectory() as tmp:
        registry = web.write_registry(Path(tmp) / "sources.toml")
        counts = Path(tmp) / "counts.txt"
        env = {**os.environ, "PYTHONPATH": f"{probe_dir}:{tree}", "NEWSWIRE_PROBE": str(counts)}
        args = [sys.executable, "-m", "crawler", "crawl", "--sources", str(registry), "--db", f"sqlite:///{tmp}/n.db"]
        args += as_set_options(LOCAL_WEB_SETTINGS)
        answered = len(web.server.answers)
        start = time.perf_counter()
        process = subprocess.Popen(args, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        first = None
        while process.poll() is None:
            if first is None and len(web.server.answers) > answered:
                first = time.perf_counter() - start
            time.sleep(0.002)
        wall = time.perf_counter() - start
        # the main process makes the engines; extraction workers report 0 0
        reports = [tuple(map(int, line.split())) for line in counts.read_text().splitlines()]
        engines, checks = max(reports, default=(0, 0))
        return first or wall, wall, engines, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--trees", type=Path, nargs="+", default=[Path.cwd()])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as probe_dir:
        Path(probe_dir, "sitecustomize.py").write_text(PROBE)
        runs: dict[Path, list[tuple[float, float, int, int]]] = {tree: [] for tree in args.trees}
        for _ in range(args.rounds):
            for tree in args.trees:
                runs[tree].append(one_crawl(tree.resolve(), Path(probe_dir)))
    print(f"# newswire crawl start-up on the demo web, {os.cpu_count()} cores, {args.rounds} interleaved rounds")
    print(f"{'tree':<40} {'to 1st request s':>17} {'wall s':>7} {'engines':>8} {'alembic':>8}")
    for tree, rs in runs.items():
        first, wall = statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs)
        print(f"{str(tree)[-40:]:<40} {first:>17.3f} {wall:>7.2f} {rs[-1][2]:>8} {rs[-1][3]:>8}")


if __name__ == "__main__":
    main()
