"""Requests as JSON in the frontier — never pickle: whoever can write to Redis must not run code on workers.

scrapy-redis stores `pickle.dumps(request.to_dict(spider=…))`; a pickle is a program, so a Redis reachable
by anyone else would be a door into every worker. Here a request is its `to_dict()` as JSON, bytes (headers,
body) tagged and base64-encoded; a value JSON cannot carry is refused when the request is queued, not found
broken when it is read back. Callbacks travel by name and must be the spider's methods (Scrapy's rule).
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from scrapy import Request, Spider
from scrapy.utils.request import request_from_dict

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 1 << 20  # a queued request larger than this is refused (a body the crawl would not send)
_BYTES = "__bytes__"


class UnqueueableRequest(ValueError):
    """A request that cannot travel through the frontier (a value JSON cannot carry, or too large)."""


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        if _BYTES in value:
            raise UnqueueableRequest(f"a dict with the reserved key {_BYTES!r}")
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
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(request: Request, spider: Spider) -> bytes:
    """The request as JSON bytes; UnqueueableRequest when it cannot be queued."""
    try:
        payload = json.dumps(_encode(request.to_dict(spider=spider)), separators=(",", ":")).encode()
    except ValueError as exc:  # UnqueueableRequest, or to_dict's "callback is not a spider method"
        raise UnqueueableRequest(f"{request.url}: {exc}") from exc
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise UnqueueableRequest(f"{request.url}: {len(payload)} bytes, over {MAX_PAYLOAD_BYTES}")
    return payload


def loads(payload: bytes, spider: Spider) -> Request:
    """The request back from its JSON bytes (headers, body and meta as they were queued)."""
    data = _decode(json.loads(payload))
    headers = data.get("headers") or {}
    data["headers"] = {name.encode("latin-1"): values for name, values in headers.items()}
    return request_from_dict(data, spider=spider)
