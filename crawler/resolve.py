"""Resolve cited names and domains to the registry's outlets (then to well-known ones)."""

from __future__ import annotations

from crawler.extract.citations import WELL_KNOWN, OutletDirectory
from crawler.registry import Outlet


def outlet_directory(outlets: list[Outlet]) -> OutletDirectory:
    """The registry's outlets (names, aliases, the hosts of their addresses) first, then the well-known ones."""
    directory = OutletDirectory()
    for outlet in outlets:
        directory.add(outlet.name, outlet.aliases, outlet.hosts)
    for canonical, aliases, domains in WELL_KNOWN:
        directory.add(canonical, aliases, domains)
    return directory
