"""Moved to crawler.cli.schedule; kept only while pyproject.toml's import-linter contract names this module."""

from crawler.cli.schedule import schedule

__all__ = ["schedule"]
