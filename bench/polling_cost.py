"""What a scheduled crawl costs the outlets: requests and bytes of a first crawl, of an unchanged re-crawl
(conditional requests: 304s), and of a re-crawl after one new story, on the local news web.

Usage: python -m bench.polling_cost [--rounds 3]
Prints, per crawl, requests, 200 and 304 answers, body bytes served and wall seconds (median of
rounds), and the ratio of each re-crawl to the first crawl.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawler.demo import NewsWeb
from crawler.demo.stories import Story

PROJECT = Path(__file__).resolve().parents[1]

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "NEWSWIRE_RETRY_BACKOFF_BASE=0"]
NEW_STORY = Story(
    "/2025/07/26/new-story/",
    "A new story for the benchmark",
    ("A paragraph long enough to be an article body, with a few sentences of plain reporting text.",) * 4,
)


def crawl(web: NewsWeb, registry: Path, db_url: str) -> dict[str, float]:
    mark = len(web.server.answers)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "crawler", "crawl", "--sources", str(registry), "--db", db_url, *FAST],
        cwd=PROJECT,
        capture_output=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    answers = web.server.answers_since(mark)
    body_bytes = sum(
        len(web.server.sites[slug].routes[path.split("?")[0]].body)
        for slug, path, status in answers
        if status == 200 and path.split("?")[0] in web.server.sites[slug].routes
    )
    return {
        "requests": len(answers),
        "200": sum(1 for a in answers if a[2] == 200),
        "304": sum(1 for a in answers if a[2] == 304),
        "bytes": body_bytes,
        "seconds": seconds,
    }


def one_round() -> dict[str, dict[str, float]]:
    with NewsWeb() as web, tempfile.TemporaryDirectory() as tmp:
        registry = web.write_registry(Path(tmp) / "sources.toml")
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        first = crawl(web, registry, db_url)
        unchanged = crawl(web, registry, db_url)
        web.publish_story(NEW_STORY)
        one_new = crawl(web, registry, db_url)
    return {"first crawl": first, "unchanged re-crawl": unchanged, "one new story": one_new}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = [one_round() for _ in range(args.rounds)]
    names = list(rounds[0])
    columns = ["requests", "200", "304", "bytes", "seconds"]
    median = {n: {c: statistics.median(r[n][c] for r in rounds) for c in columns} for n in names}
    print(f"polling cost on the local news web, median of {args.rounds} rounds")
    print(f"{'crawl':<20}" + "".join(f"{c:>10}" for c in columns) + f"{'req ratio':>11}{'bytes ratio':>13}")
    base = median[names[0]]
    for name in names:
        row = median[name]
        cells = "".join(f"{row[c]:>10.2f}" if c == "seconds" else f"{row[c]:>10.0f}" for c in columns)
        print(f"{name:<20}{cells}{row['requests'] / base['requests']:>11.2f}{row['bytes'] / base['bytes']:>13.3f}")


if __name__ == "__main__":
    main()
