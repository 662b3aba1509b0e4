"""Logging: every line timestamped, to the terminal or a log file; one line per expected failure, no tracebacks
from Scrapy's robots.txt fetches."""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

QUIETED_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt",)


class OneLineFailures(logging.Filter):
    """Turn an error record with a traceback into one WARNING line carrying the exception's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.levelno >= logging.ERROR:
            exc = record.exc_info[1]
            record.msg = f"{record.getMessage()} (robots.txt unavailable: treated as allow-all; {type(exc).__name__})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_expected_tracebacks() -> None:
    """Install OneLineFailures on the Scrapy loggers that log expected failures with tracebacks."""
    for name in QUIETED_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, OneLineFailures) for f in target.filters):
            target.addFilter(OneLineFailures())


LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
LOG_DATEFORMAT = "%Y-%m-%d %H:%M:%S%z"  # local time, as cron keeps it, with its UTC offset

OWN = "newswire"  # a command's own lines (summary, progress, "wrote N feeds"): INFO unless -q
STDOUT = "newswire.out"  # those of them a command prints on stdout (the crawl summary, "wrote N feeds")


class ClickStream(logging.Handler):
    """Echo records through click, to the stream current at each record (CliRunner swaps them)."""

    def __init__(self, err: bool) -> None:
        super().__init__()
        self.err = err

    def emit(self, record: logging.LogRecord) -> None:
        import click

        try:
            click.echo(self.format(record), err=self.err)
        except Exception:  # noqa: BLE001 - logging must never raise (a closed pipe, say); logging reports it
            self.handleError(record)


@dataclass(frozen=True)
class LogOptions:
    """-q, -v and --log-file of a command: what it logs and where."""

    quiet: bool = False
    verbose: bool = False
    log_file: str | None = None

    @property
    def level(self) -> str:
        """The level of library and Scrapy records: WARNING, INFO with -v."""
        return "INFO" if self.verbose else "WARNING"

    @property
    def own_level(self) -> int:
        """The level of the command's own lines: INFO, WARNING with -q."""
        return logging.WARNING if self.quiet else logging.INFO

    def as_args(self) -> list[str]:
        """The same options for a child command (`schedule run` passes them to each crawl)."""
        return [*(["-q"] if self.quiet else []), *(["-v"] if self.verbose else []),
                *(["--log-file", self.log_file] if self.log_file else [])]  # fmt: skip


_installed: list[tuple[logging.Logger, logging.Handler, int, bool]] = []  # with the level and propagation before


def configure(options: LogOptions, own: tuple[str, ...] = (OWN,)) -> None:
    """Send every log line of this command, timestamped, to stderr (the command's stdout lines to stdout),
    or all of them to `options.log_file` (appended). `own` names the loggers whose INFO lines are the
    command's own (the scheduler's, for `schedule run`)."""
    reset()
    formatter = logging.Formatter(LOG_FORMAT, LOG_DATEFORMAT)
    if options.log_file:
        shared: logging.Handler = logging.FileHandler(options.log_file, encoding="utf-8")
        err, out = shared, shared
    else:
        err, out = ClickStream(err=True), ClickStream(err=False)
    for handler in (err, out):
        handler.setFormatter(formatter)
    _attach(logging.getLogger(), err, options.level)
    for name in own:
        _attach(logging.getLogger(name), err, options.own_level, propagate=False)
    _attach(logging.getLogger(STDOUT), out, options.own_level, propagate=False)
    quiet_expected_tracebacks()


def _attach(target: logging.Logger, handler: logging.Handler, level: int | str, propagate: bool = True) -> None:
    _installed.append((target, handler, target.level, target.propagate))
    target.addHandler(handler)
    target.setLevel(level)
    target.propagate = propagate


def hand_over_root() -> None:
    """Take our handler off the root logger: Scrapy installs its own from the same LOG_* settings."""
    root = logging.getLogger()
    for target, handler, _level, _propagate in _installed:
        if target is root:
            target.removeHandler(handler)


def reset() -> None:
    """Remove what configure() installed (a command ends; an in-process test runs the next)."""
    for target, handler, level, propagate in reversed(_installed):
        target.removeHandler(handler)
        target.setLevel(level)
        target.propagate = propagate
        handler.close()
    _installed.clear()
