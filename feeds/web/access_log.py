"""The server's access log in the Common Log Format, one line per request, as web servers write it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any


class AccessLog:
    """WSGI middleware appending `host - - [time] "METHOD path protocol" status bytes` to a file.

    The client is the socket's peer (REMOTE_ADDR), never a header a client can forge (X-Forwarded-For);
    the request line is cut at 2,000 characters and its quotes and control characters escaped."""

    def __init__(self, app: Callable, path: str | Path) -> None:
        self.app = app
        self.file: IO[str] = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open while serving
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        status: list[str] = []

        def recording_start_response(line: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            status.append(line)
            return start_response(line, headers, *args)

        body = list(self.app(environ, recording_start_response))
        self._write(environ, status[0] if status else "500", sum(len(chunk) for chunk in body))
        return body

    def _write(self, environ: dict, status: str, size: int) -> None:
        path = environ.get("PATH_INFO", "") + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
        request = f"{environ.get('REQUEST_METHOD', '-')} {path} {environ.get('SERVER_PROTOCOL', '-')}"
        request = _escape(request[:2000])
        when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
        line = f'{environ.get("REMOTE_ADDR", "-")} - - [{when}] "{request}" {status.split()[0]} {size or "-"}\n'
        with self.lock:
            self.file.write(line)

    def close(self) -> None:
        """Close the log file."""
        self.file.close()


def _escape(text: str) -> str:
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 32 or c in '"\\' or 127 <= ord(c) < 160 else c for c in text)
