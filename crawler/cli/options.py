"""Options that several commands share, each defined once, and the parsing of option values."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from crawler.cli.errors import UsageProblem
from crawler.discovery.registry import DEFAULT_SOURCES
from crawler.logs import LogOptions

F = TypeVar("F", bound=Callable[..., Any])
LOG_KEY = "newswire.log"
DEFAULT_FEEDS_DIR = "public/feeds"  # never ./feeds: in a checkout that is the source package


def _database(must_exist: bool) -> Callable[[click.Context, click.Parameter, str | None], str]:
    """A --db callback: the URL resolved ($NEWSWIRE_DB, else ./newswire.db) and checked, or one error line."""

    def check(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
        from storage.db import DatabaseUnusable, check_database, resolve_db_url

        try:
            return check_database(resolve_db_url(value), must_exist=must_exist)
        except DatabaseUnusable as exc:
            raise UsageProblem(f"--db: {exc}") from None

    return check


def _resolved(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    """A --db callback for commands that pass the URL on (to cron, to child crawls): resolved, not opened."""
    from storage.db import resolve_db_url

    return resolve_db_url(value)


def _db_option(callback: Callable[[click.Context, click.Parameter, str | None], str]) -> Callable[[F], F]:
    return click.option(
        "--db", "db_url", envvar="NEWSWIRE_DB", default=None, metavar="URL", callback=callback,
        help="SQLAlchemy database URL (default: $NEWSWIRE_DB, else sqlite:///newswire.db).",
    )  # fmt: skip


db_option = _db_option(_database(must_exist=True))  # commands that read what crawls stored
crawl_db_option = _db_option(_database(must_exist=False))  # a crawl creates the database (not its directory)
scheduled_db_option = _db_option(_resolved)  # the scheduled crawls check (and create) it
sources_option = click.option(
    "--sources", "sources", default=DEFAULT_SOURCES, show_default=True, metavar="FILE",
    type=click.Path(dir_okay=False), help="Outlet registry (TOML).",
)  # fmt: skip
settings_option = click.option(
    "-s", "--set", "settings", multiple=True, metavar="KEY=VALUE",
    help="Override a Scrapy or NEWSWIRE_ setting (repeatable).",
)  # fmt: skip
crontab_option = click.option(
    "--crontab", "crontab_file", default=None, metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
    help="This crontab file instead of the user's crontab.",
)  # fmt: skip
frontier_option = click.option(
    "--frontier",
    envvar="NEWSWIRE_FRONTIER",
    metavar="URL",
    help="A shared crawl's Redis frontier (redis://HOST:6379/0; or NEWSWIRE_FRONTIER).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text, for scripts.")
base_url_option = click.option(
    "--base-url", default=None, metavar="URL",
    help="Where the feed files will be served (for rel=self and ids); default: their file:// URL.",
)  # fmt: skip


def feeds_dir_option(default: str | None, text: str, *, out_alias: bool = False) -> Callable[[F], F]:
    """--feeds-dir; on `feeds` also spelled --out, as cron entries of earlier versions call it."""
    names = ("--feeds-dir", "--out") if out_alias else ("--feeds-dir",)
    return click.option(
        *names, "feeds_dir", default=default, show_default=default is not None, metavar="DIR",
        type=click.Path(file_okay=False), help=text,
    )  # fmt: skip


def log_options(command: F) -> F:
    """-q, -v and --log-file: configure logging (crawler.logs) before the command runs, undo it after."""

    @click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors (no progress or summary).")
    @click.option("-v", "--verbose", is_flag=True, help="Log Scrapy's and the libraries' INFO messages too.")
    @click.option(
        "--log-file", default=None, metavar="FILE", type=click.Path(dir_okay=False),
        help="Append the log lines to FILE instead of the terminal.",
    )  # fmt: skip
    @functools.wraps(command)
    def wrapper(*args: Any, quiet: bool, verbose: bool, log_file: str | None, **kwargs: Any) -> Any:
        from crawler import logs

        if quiet and verbose:
            raise UsageProblem("-q and -v contradict each other; choose one")
        options = LogOptions(quiet=quiet, verbose=verbose, log_file=log_file)
        ctx = click.get_current_context()
        ctx.call_on_close(logs.reset)
        try:
            logs.configure(options)
        except OSError as exc:
            raise UsageProblem(f"--log-file: cannot write {log_file}: {exc.strerror or exc}") from None
        ctx.meta[LOG_KEY] = options
        return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_log() -> LogOptions:
    """The running command's -q, -v and --log-file."""
    return click.get_current_context().meta.get(LOG_KEY, LogOptions())


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    """KEY=VALUE pairs of `-s` options as a dict of Scrapy setting overrides, each checked against the type
    of the setting's default (a number, a flag): `-s DOWNLOAD_TIMEOUT=abc` is refused here, in one line,
    not deep inside the crawl."""
    from crawler.run import crawl_settings

    defaults = crawl_settings(None)
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageProblem(f"-s expects KEY=VALUE, got {pair!r}")
        if key not in defaults:  # a typo would otherwise run a whole crawl with the setting silently unset
            raise UsageProblem(
                f"-s {key}: neither a Scrapy setting nor one of newswire's{_did_you_mean(key, defaults)}"
            )
        if problem := _setting_problem(defaults.get(key), value):
            raise UsageProblem(f"-s {key}={value}: {problem}")
        overrides[key] = value
    return overrides


def _did_you_mean(key: str, settings: Any) -> str:
    """ " (did you mean X?)" for the known setting closest to a mistyped `key`, or ""."""
    close = difflib.get_close_matches(key.upper(), [str(name) for name in settings.attributes], n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _setting_problem(default: object, value: str) -> str | None:
    """Why `value` cannot stand for a setting whose default is `default`, or None."""
    if isinstance(default, bool):
        ok = value.strip().lower() in ("0", "1", "true", "false", "yes", "no", "on", "off")
        return None if ok else "expected true or false (1 or 0)"
    if not isinstance(default, int | float):
        return None
    try:
        float(value)
    except ValueError:
        return "expected a number"
    return None


def parse_since(since: str | None, option: str = "--since") -> datetime | None:
    """A date option (--since by default) as an aware UTC datetime (anything dateparser reads), or a one-line
    error naming the option."""
    if not since:
        return None
    import dateparser

    value = dateparser.parse(
        since, settings={"RETURN_AS_TIMEZONE_AWARE": True, "TIMEZONE": "UTC", "TO_TIMEZONE": "UTC"}
    )
    if value is None:
        raise UsageProblem(f"{option}: cannot read a date in {since!r}")
    return value
