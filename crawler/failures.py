"""Classify download failures into short kinds for stats and one-line messages."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import exceptions as scrapy_errors
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer
from twisted.internet import error as net_error


class PrivateAddressRefused(IgnoreRequest):
    """A discovered link that resolves to a loopback, private or otherwise internal address."""


_NETWORK_FAILURES = (
    ((net_error.DNSLookupError, scrapy_errors.CannotResolveHostError), "dns", "DNS lookup failed"),
    ((net_error.TimeoutError, TimeoutError, scrapy_errors.DownloadTimeoutError), "timeout", "timed out"),
    ((net_error.ConnectionRefusedError, scrapy_errors.DownloadConnectionRefusedError), "connection_refused",
     "connection refused"),
    ((scrapy_errors.ResponseDataLossError,), "data_loss", "response cut short"),
    ((net_error.ConnectError, net_error.ConnectionLost, net_error.ConnectionDone, scrapy_errors.DownloadFailedError),
     "connection", "connection failed"),
)  # fmt: skip


def classify_failure(failure: Any) -> tuple[str, str, bool]:
    """(kind, one-line detail, whether it counts as an error) for a request's failure."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"http_{status}", f"HTTP {status}", True
    if isinstance(exc, PrivateAddressRefused):
        return "private_address", str(exc), False
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or "ignored"
        if "DOWNLOAD_MAXSIZE" in text:  # a compressed body that grew past the cap while decompressed
            return "too_large", "body over DOWNLOAD_MAXSIZE once decompressed", True
        return ("robots_disallowed" if "robots" in text.lower() else "ignored"), text, False
    if isinstance(exc, scrapy_errors.DownloadCancelledError | defer.CancelledError):
        # the download handler cancels a body that grows past DOWNLOAD_MAXSIZE (a streamed one says nothing)
        return "too_large", str(exc).strip() or "download cancelled: body over DOWNLOAD_MAXSIZE", True
    for kinds, kind, detail in _NETWORK_FAILURES:
        if isinstance(exc, kinds):
            return kind, detail, True
    name = type(exc).__name__
    return name.lower(), f"{name}: {exc}".strip(), True


PERMANENT_HTTP = {400, 401, 403, 404, 405, 410, 414, 451}


def worth_retrying(kind: str) -> bool:
    """True for failures that may pass by the next crawl (network, 5xx, 429); False for 404s, refusals, bad URLs."""
    if kind.startswith("http_"):
        return int(kind.removeprefix("http_") or 0) not in PERMANENT_HTTP
    return kind not in {"private_address", "robots_disallowed", "ignored", "bad_url", "not_html", "too_large"}


def retry_after_seconds(value: bytes | None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
