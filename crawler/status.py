"""`newswire status`: outlets with their articles and freshness, and the latest runs, as data and as text."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from scheduling.freshness import freshness
from scheduling.polling import PollingPolicy
from storage.models import CrawlRun
from storage.repository import outlet_counts, recent_runs, republished_count

logger = logging.getLogger(__name__)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


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
    }


def status_report(session: Session, policy: PollingPolicy, runs: int = 5) -> dict[str, Any]:
    """Outlets (articles, freshness) and the latest `runs` runs, as JSON-ready data."""
    counts = {name: (count, last) for name, count, last in outlet_counts(session)}
    outlets = []
    for fresh in freshness(session, policy):
        count, last_fetch = counts.get(fresh.name, (0, None))
        outlets.append({**fresh.as_json(), "articles": count, "last_fetched_at": _iso(last_fetch)})
    return {
        "outlets": outlets,
        "articles": sum(c for c, _ in counts.values()),
        "republished": republished_count(session),
        "runs": [run_report(r) for r in recent_runs(session, runs)],
    }


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


def status_text(report: dict[str, Any], now: datetime | None = None) -> str:
    """The report as the table `newswire status` prints."""
    from storage.models import utcnow

    now = now or utcnow()
    lines = [f"{'outlet':<26} {'articles':>8}  {'last new':>9}  {'last ok':>9}  {'fails':>5}  next crawl"]
    for o in report["outlets"]:
        flag = "  FAILING: " + (o["last_error"] or "") if o["failing"] else ""
        lines.append(
            f"{o['name'][:26]:<26} {o['articles']:>8}  {_ago(o['last_new_article_at'], now):>9}  "
            f"{_ago(o['last_success_at'], now):>9}  {o['consecutive_failures']:>5}  "
            f"{_ago(o['next_due_at'], now) if o['next_due_at'] else 'due'}{flag}"
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
    return "\n".join(lines)
