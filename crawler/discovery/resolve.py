"""Resolve cited names and domains to the registry's outlets (then to well-known ones)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crawler.discovery.registry import Outlet
from crawler.extract.citations import WELL_KNOWN, Citation, OutletDirectory, resolve


def outlet_directory(outlets: list[Outlet]) -> OutletDirectory:
    """The registry's outlets (names, aliases, the hosts of their addresses) first, then the well-known ones."""
    directory = OutletDirectory()
    for outlet in outlets:
        directory.add(outlet.name, outlet.aliases, outlet.hosts)
    for canonical, aliases, domains in WELL_KNOWN:
        directory.add(canonical, aliases, domains)
    return directory


def citation_rows(
    citations: Iterable[Citation], directory: OutletDirectory | None, outlet_ids: dict[str, int]
) -> list[dict[str, Any]]:
    """An article's citations as `citations` rows: resolved to a registry outlet (its id, by name) when the
    directory knows the name or domain, else kept by the name as written; text fields cut to their columns."""
    rows = []
    for citation in citations:
        canonical = resolve(citation.name, citation.domain, directory) if directory is not None else None
        rows.append(
            {
                "outlet_id": outlet_ids.get(canonical or ""),
                "name": (canonical or citation.name)[:200],
                "kind": citation.kind,
                "evidence": citation.evidence[:2000],
                "domain": (citation.domain or "")[:255] or None,
            }
        )
    return rows
