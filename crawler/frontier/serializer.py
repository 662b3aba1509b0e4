"""Requests as JSON in the frontier — never pickle: whoever can write to Redis must not run code on workers.

scrapy-redis stores `pickle.dumps(request.to_dict(spider=…))`; a pickle is a program, so a Redis reachable
by anyone else would be a door into every worker. Here a request is its `to_dict()` as JSON, bytes (headers,
body) tagged and base64-encoded, and the few records a request carries (RECORDS: the discovery hints) by
name and fields; any other value JSON cannot carry is refused when the request is queued, not found broken
when it is read back. Callbacks travel by name and must be the spider's own `parse…` and `on_…` methods.
What comes back from Redis is decoded here and cut down to what the crawl itself writes in
crawler/frontier/readback.py.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from typing import Any

from scrapy import Request, Spider

from crawler.extract.record import DiscoveryHints

logger = logging.getLogger(__name__)

CALLBACK_PREFIX, ERRBACK_PREFIX = "parse", "on_"  # the only spider methods a queued request may name
MAX_PAYLOAD_BYTES = 1 << 20  # a queued request larger than this is refused (a body the crawl would not send)
_BYTES, _RECORD = "__bytes__", "__record__"
RECORDS: dict[str, type] = {"DiscoveryHints": DiscoveryHints}  # the only objects a request may carry, by name


class UnqueueableRequest(ValueError):
    """A request that cannot travel through the frontier (a value JSON cannot carry, or too large)."""


class RefusedRequest(UnqueueableRequest):
    """A request the crawl would never queue (read back from Redis, someone else wrote it); `reason` names the
    rule it breaks."""

    def __init__(self, message: str, reason: str = "not_allowed") -> None:
        super().__init__(message)
        self.reason = reason


def own_method(spider: Spider, name: object, prefix: str) -> bool:
    """True when `name` starts with `prefix` and names a method the spider's own classes define (not
    Scrapy's, not any other attribute)."""
    if not isinstance(name, str) or not name.startswith(prefix):
        return False
    own = [cls for cls in type(spider).__mro__ if cls not in Spider.__mro__]
    return any(callable(vars(cls).get(name)) for cls in own)


def check_callbacks(spider: Spider, callback: object, errback: object) -> None:
    """RefusedRequest unless the callback is the spider's `parse…` and the errback (if any) its `on_…`."""
    if not own_method(spider, callback, CALLBACK_PREFIX):
        raise RefusedRequest(f"the callback is not a parse method of the spider: {callback!r:.80}")
    if errback is not None and not own_method(spider, errback, ERRBACK_PREFIX):
        raise RefusedRequest(f"the errback is not an on_… method of the spider: {errback!r:.80}")


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if dataclasses.is_dataclass(value) and RECORDS.get(type(value).__name__) is type(value):
        return {_RECORD: type(value).__name__, "fields": _encode(dataclasses.asdict(value))}  # type: ignore[arg-type]
    if isinstance(value, dict):
        if _BYTES in value or _RECORD in value:
            raise UnqueueableRequest(f"a dict with a reserved key ({_BYTES!r} or {_RECORD!r})")
        return {_key(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise UnqueueableRequest(f"{type(value).__name__} cannot be queued")


def _key(key: Any) -> str:
    if isinstance(key, bytes):
        return key.decode("latin-1")  # header names: ASCII on the wire
    if isinstance(key, str):
        return key
    raise UnqueueableRequest(f"a {type(key).__name__} dict key cannot be queued")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        if set(value) == {_RECORD, "fields"}:
            return RECORDS[value[_RECORD]](**_decode(value["fields"]))  # KeyError: not a record we made
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(request: Request, spider: Spider) -> bytes:
    """The request as JSON bytes; UnqueueableRequest when it cannot be queued (what JSON cannot carry, too
    large, or what a worker would refuse to read back: a callback that is not the spider's `parse…`, an
    errback not its `on_…`, a method other than GET, a body)."""
    try:
        data = request.to_dict(spider=spider)
        check_callbacks(spider, data.get("callback"), data.get("errback"))
        if data.get("method") != "GET" or data.get("body"):
            raise UnqueueableRequest("only a GET without a body is queued")
        payload = json.dumps(_encode(data), separators=(",", ":")).encode()
    except ValueError as exc:  # UnqueueableRequest, RefusedRequest, or to_dict's "callback is not a spider method"
        raise UnqueueableRequest(f"{request.url}: {exc}") from exc
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise UnqueueableRequest(f"{request.url}: {len(payload)} bytes, over {MAX_PAYLOAD_BYTES}")
    return payload


def decode(payload: bytes) -> dict[str, Any]:
    """A queued request's `to_dict()` data back from its JSON bytes, as Redis holds them (not yet trusted: see
    crawler/frontier/readback.py). The size is capped; records are only the named ones (RECORDS)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise UnqueueableRequest(f"a queued request of {len(payload)} bytes, over {MAX_PAYLOAD_BYTES}")
    data = _decode(json.loads(payload))
    if not isinstance(data, dict):
        raise UnqueueableRequest("a queued request that is not a JSON object")
    return data
