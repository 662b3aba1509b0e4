"""Waitress with bounds on what a client's connections may hold: a deadline for a request's headers and one for
the whole request, connections per client address, and enough connections in all.

Waitress reads a whole request before a thread sees it, so slow clients hold no thread; but it closes a
connection only after `channel_timeout` seconds of silence, and stops accepting at `connection_limit`: 100
sockets sending a header line every 5 s locked every reader out for as long as they went on (slowloris). Here
a request's headers must all arrive within `header_timeout` of its first byte (of the connection's opening, for
its first request) and the whole request within `request_timeout`; an idle kept-alive connection is closed after
`idle_timeout`; one client address (an IPv6 /64) holds at most `per_client` connections, the server
`connection_limit` in all, polled with poll() (select() fails past descriptor 1,023)."""

from __future__ import annotations

import ipaddress
import logging
import resource
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

logger = logging.getLogger(__name__)

REPORT_EVERY = 60.0  # seconds between two log lines about slow or refused connections


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection, one client and the server may hold."""

    header_timeout: float = 10.0  # seconds for a request's headers, from its first byte
    request_timeout: float = 30.0  # seconds for the whole request, body included
    idle_timeout: int = 30  # seconds a kept-alive connection may wait for its next request
    per_client: int = 20  # connections from one address (an IPv6 /64) at once; 0: no limit (behind a proxy)
    connection_limit: int = 1000  # connections in all
    max_header_bytes: int = 64 * 1024
    max_body_bytes: int = 64 * 1024  # the server takes GET and HEAD only: a body is never needed

    def adjustments(self) -> dict[str, Any]:
        """Waitress's own settings for these limits (its maintenance runs every second to enforce them)."""
        return {
            "channel_timeout": self.idle_timeout, "cleanup_interval": 1, "connection_limit": self.connection_limit,
            "max_request_header_size": self.max_header_bytes, "max_request_body_size": self.max_body_bytes,
            "asyncore_use_poll": True,
        }  # fmt: skip


def client_key(addr: Any) -> str:
    """The client a peer address counts for: the IPv4 address, or the /64 of an IPv6 one (a host gets a /64)."""
    host = addr[0] if isinstance(addr, tuple) else str(addr)
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Clients:
    """Connections open per client, and what was cut or refused since the last report (shared by the servers
    of one listening address list)."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.open: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.cut = 0
        self.next_report = 0.0

    def admit(self, client: str) -> bool:
        """Whether a new connection from `client` stays within the per-client limit (then it is counted)."""
        if self.limits.per_client and self.open[client] >= self.limits.per_client:
            self.refused[client] += 1
            return False
        self.open[client] += 1
        return True

    def release(self, client: str) -> None:
        self.open[client] -= 1
        if self.open[client] <= 0:
            del self.open[client]

    def report(self, now: float) -> None:
        """One log line, at most every REPORT_EVERY seconds, about connections cut or refused since the last."""
        if not (self.cut or self.refused) or now < self.next_report:
            return
        busiest = ", ".join(f"{client} ({n})" for client, n in self.refused.most_common(3))
        logger.warning(
            "slow or too many connections: %d closed for not sending a whole request within %g s (headers) or %g s "
            "(request); %d refused over %d per client%s", self.cut, self.limits.header_timeout,
            self.limits.request_timeout, sum(self.refused.values()), self.limits.per_client,
            f", most from {busiest}" if busiest else "",
        )  # fmt: skip
        self.cut, self.refused = 0, Counter()
        self.next_report = now + REPORT_EVERY


class GuardedChannel(HTTPChannel):
    """A connection whose request must arrive by a deadline, counted against its client's connections."""

    server: GuardedServer

    def __init__(  # waitress passes the socket map as map=
        self,
        server: GuardedServer,
        sock: Any,
        addr: Any,
        adj: Adjustments,
        map: Any = None,  # noqa: A002
    ) -> None:
        self.client = client_key(addr)
        self.reading_since: float | None = time.monotonic()  # when the request being read began; None: idle
        self.counted = True  # in server.clients, by GuardedServer.handle_accept
        super().__init__(server, sock, addr, adj, map=map)

    def received(self, data: bytes) -> bool:
        before = self.request
        result = super().received(data)
        if self.request is None:  # every request read is whole: waiting for the next is idleness, not slowness
            self.reading_since = None
        elif self.request is not before and (before is not None or self.reading_since is None):
            self.reading_since = time.monotonic()  # a new request began in these bytes
        return result

    def service(self) -> None:
        super().service()
        if self.request is not None:  # a pipelined request waited while this one was served: its clock starts now
            self.reading_since = time.monotonic()

    def overdue(self, now: float) -> bool:
        """Whether the request being read missed its deadline (never while the server itself is busy with one)."""
        if self.reading_since is None or self.requests or self.will_close:
            return False
        limits = self.server.clients.limits
        headers_done = self.request is not None and self.request.headers_finished
        return now - self.reading_since > (limits.request_timeout if headers_done else limits.header_timeout)

    def del_channel(self, socket_map: Any = None) -> None:
        if self.counted:
            self.counted = False
            self.server.clients.release(self.client)
        super().del_channel(socket_map)


class GuardedServer(TcpWSGIServer):
    """Waitress's TCP server that refuses a client's connections past the per-client limit and closes those
    whose request is overdue (GuardedChannel)."""

    channel_class = GuardedChannel

    def __init__(self, application: Any, clients: Clients, **kw: Any) -> None:
        self.clients = clients
        super().__init__(application, **kw)

    def handle_accept(self) -> None:
        try:
            accepted = self.accept()
            if accepted is None:
                return
            conn, addr = accepted
            self.set_socket_options(conn)
        except OSError:  # as waitress: a socket gone before it was accepted is no reason to stop
            if self.adj.log_socket_errors:
                self.logger.warning("server accept() threw an exception", exc_info=True)
            return
        addr = self.fix_addr(addr)
        client = client_key(addr)
        if not self.clients.admit(client):
            conn.close()  # refused at once: holding it open would give the client what it came for
            return
        try:
            self.channel_class(self, conn, addr, self.adj, map=self._map)
        except OSError:  # the peer went away before its channel was set up
            self.clients.release(client)
            conn.close()

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections (channel_timeout)
        moment = time.monotonic()
        for channel in list(self.active_channels.values()):
            if isinstance(channel, GuardedChannel) and channel.overdue(moment):
                channel.will_close = True
                self.clients.cut += 1
        self.clients.report(moment)


def create_server(
    application: Any, host: str, port: int, threads: int, limits: ConnectionLimits | None = None,
    socket_map: dict | None = None, **options: Any,
) -> GuardedServer | MultiSocketServer:  # fmt: skip
    """A waitress server of `application` on host:port (one GuardedServer per address the host resolves to),
    bounded by `limits`; `options` are waitress's other settings (ident, …). Not yet running: call run()."""
    limits = limits or ConnectionLimits()
    adj = Adjustments(host=host, port=port, threads=threads, **limits.adjustments(), **options)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    sockets: dict = {} if socket_map is None else socket_map
    clients = Clients(limits)
    servers = [GuardedServer(application, clients, map=sockets, dispatcher=dispatcher, adj=adj, sockinfo=info)
               for info in adj.listen]  # fmt: skip
    if len(servers) == 1:
        return servers[0]
    listening = [(server.effective_host, server.effective_port) for server in servers]
    return MultiSocketServer(sockets, adj, listening, dispatcher, servers[-1].log_info)


def fit_descriptors(limits: ConnectionLimits, spare: int = 256) -> ConnectionLimits:
    """`limits` with the process's open-file limit raised (up to its hard limit) to hold every connection and
    `spare` more descriptors (database, logs, buffers spilled to files); fewer connections when it cannot be."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = limits.connection_limit + spare
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < wanted:
        fitted = max(soft - spare, 16)
        logger.warning("open-file limit %d: serving at most %d connections at once, not %d", soft, fitted,
                       limits.connection_limit)  # fmt: skip
        return replace(limits, connection_limit=fitted)
    return limits
