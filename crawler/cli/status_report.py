"""`newswire status`: outlets with their articles, freshness, last error and next crawl, and the latest runs,
as data and as text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from scheduling.cron import ScheduledCrawl
from scheduling.freshness import OutletFreshness, freshness
from scheduling.polling import PollingPolicy
from storage.common.times import iso
from storage.models import CrawlRun
from storage.repository import outlet_counts, recent_runs, republished_count


def _iso(value: datetime | None) -> str | None:
    return iso(value, timespec="seconds")


def run_report(run: CrawlRun) -> dict[str, Any]:
    """One run as plain data."""
    errors = {k.removeprefix("errors/"): v for k, v in (run.outcomes or {}).items() if k.startswith("errors/")}
    return {
        "id": run.id,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "status": run.status,
        "finish_reason": run.finish_reason,
        "outlets": run.outlets,
        "requests": run.requests,
        "not_modified": run.not_modified,
        "pages_fetched": run.pages_fetched,
        "new": run.articles_new,
        "updated": run.articles_updated,
        "already_stored": run.already_stored,
        "duplicates": run.duplicates,
        "errors": run.errors,
        "errors_by_kind": errors,
        "workers": run.by_worker or {},  # a shared crawl's processes (host, pid and their counts), by worker id
    }


def next_crawl(
    fresh: OutletFreshness, cron: Sequence[ScheduledCrawl] | None, now: datetime
) -> tuple[datetime | None, str]:
    """When the outlet is next crawled, and what decides it: "cron" (the installed entries for this
    database, --due ones once polling makes it due), "unscheduled" (entries for this database, none for
    it), or "polling" (no entries: `schedule run` or `crawl --due`; None then means due now)."""
    if not cron:
        return fresh.next_due_at, "polling"
    times = [c.next_crawl(now, fresh.next_due_at) for c in cron if c.covers(fresh.name)]
    return (min(times), "cron") if times else (None, "unscheduled")


def status_report(
    session: Session,
    policy: PollingPolicy,
    runs: int = 5,
    cron: Sequence[ScheduledCrawl] | None = None,
    now: datetime | None = None,
    registry: set[str] | None = None,
) -> dict[str, Any]:
    """Outlets (articles, freshness, next crawl) and the latest `runs` runs, as JSON-ready data.

    `cron`: the installed cron entries that crawl this database, which set the next crawl times.
    `registry`: the slugs of the outlets the registry names (None: not known); a stored outlet outside it
    is never crawled again, so it has no next crawl (`scheduled_by`: "not in registry")."""
    now = now or datetime.now(UTC)
    counts = {name: (count, last) for name, count, last in outlet_counts(session)}
    failures = latest_failures(recent_runs(session, FAILURE_RUNS_READ))
    outlets = []
    for fresh in freshness(session, policy):
        count, last_fetch = counts.get(fresh.name, (0, None))
        when, scheduled_by = next_crawl(fresh, cron, now)
        in_registry = None if registry is None else fresh.slug in registry
        if in_registry is False:
            when, scheduled_by = None, NOT_IN_REGISTRY
        outlets.append(
            {
                **fresh.as_json(),
                "articles": count,
                "last_fetched_at": _iso(last_fetch),
                "next_crawl_at": when.isoformat() if when else None,  # as precise as next_due_at
                "scheduled_by": scheduled_by,
                "failures": failures.get(fresh.slug, []),  # of the latest run that crawled it (kind, url, at)
                "in_registry": in_registry,
            }
        )
    return {
        "outlets": outlets,
        "articles": sum(c for c, _ in counts.values()),
        "republished": republished_count(session),
        "runs": [run_report(r) for r in recent_runs(session, runs)],
    }


NOT_IN_REGISTRY = "not in registry"  # a stored outlet the registry no longer names: never crawled again
FAILURE_RUNS_READ = 20  # runs read back for each outlet's latest failures


def latest_failures(runs: Sequence[CrawlRun]) -> dict[str, list[dict[str, str]]]:
    """Each outlet's failures (kind, URL, time) in the latest of `runs` (newest first) that crawled it."""
    found: dict[str, list[dict[str, str]]] = {}
    for run in runs:
        for slug, counts in (run.by_outlet or {}).items():
            if slug not in found and isinstance(counts, dict):
                found[slug] = list(counts.get("failures") or [])
    return found


def _ago(iso: str | None, now: datetime) -> str:
    if not iso:
        return "never"
    seconds = (now - datetime.fromisoformat(iso)).total_seconds()
    if seconds < 0:
        return "in " + _span(-seconds)
    return _span(seconds) + " ago"


def _span(seconds: float) -> str:
    delta = timedelta(seconds=int(seconds))
    if delta < timedelta(minutes=1):
        return f"{delta.seconds}s"
    if delta < timedelta(hours=1):
        return f"{delta.seconds // 60}m"
    if delta < timedelta(days=2):
        return f"{int(delta.total_seconds() // 3600)}h"
    return f"{delta.days}d"


def _next(outlet: dict[str, Any], now: datetime) -> str:
    """The next-crawl column: "in 12m", "due" (at the next crawl), "not in cron"; "(cron)" when cron decides."""
    if outlet["scheduled_by"] == NOT_IN_REGISTRY:
        return NOT_IN_REGISTRY
    if outlet["scheduled_by"] == "unscheduled":
        return "not in cron"
    if outlet["next_crawl_at"] is None:
        return "due"
    when = _ago(outlet["next_crawl_at"], now)
    return f"{when} (cron)" if outlet["scheduled_by"] == "cron" else when


def status_text(report: dict[str, Any], now: datetime | None = None) -> str:
    """The report as the table `newswire status` prints."""
    from storage.models import utcnow

    now = now or utcnow()
    lines = [f"{'outlet':<26} {'articles':>8}  {'last new':>9}  {'last ok':>9}  {'fails':>5}  next crawl"]
    for o in report["outlets"]:  # fails: crawls in a row with an error of this outlet (a listing or a page)
        label = "FAILING" if o["failing"] else "last error"  # the last error shows from its first failing crawl
        when = f" ({_ago(o['last_error_at'], now)})" if o.get("last_error_at") else ""
        error = f"  {label}: {o['last_error']}{when}" if o["last_error"] else ("  FAILING" if o["failing"] else "")
        lines.append(
            f"{o['name'][:26]:<26} {o['articles']:>8}  {_ago(o['last_new_article_at'], now):>9}  "
            f"{_ago(o['last_success_at'], now):>9}  {o['runs_with_errors']:>5}  {_next(o, now):<14}{error}"
        )
    lines.append(f"{report['articles']} articles; {report['republished']} share their exact text with another outlet")
    lines.append("\nlatest runs:")
    for r in report["runs"]:
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors_by_kind"].items()))
        lines.append(
            f"  #{r['id']} {r['started_at']} {r['status']:<11} {r['requests']} requests ({r['not_modified']} not "
            f"modified), {r['new']} new, {r['updated']} updated, {r['duplicates']} duplicates, "
            f"{r['errors']} errors{f' ({kinds})' if kinds else ''}"
        )
        for worker_id, w in sorted(r["workers"].items()):
            lines.append(
                f"      worker {worker_id}: {w['requests']} requests, {w['articles_new']} new, {w['errors']} errors"
            )
    return "\n".join(lines)
