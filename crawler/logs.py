"""Logging for crawls: one line per expected failure, no tracebacks from Scrapy's robots.txt fetches."""

from __future__ import annotations

import logging

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
