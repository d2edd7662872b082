"""The HTTP server of `FakeIRS.running()` and `irs-grammar serve`: wsgiref, threaded, quiet.

It serves any WSGI application; what it adds to wsgiref is a connection
closed without a reply when the application raises ConnectionDropped (the
`drop` fault), no name lookup at bind time, no log lines, a connection idle
for IDLE_TIMEOUT seconds closed, and a client that resets its connection
costing nothing on standard error (any other error of a connection is one
line, never a traceback).
"""

from __future__ import annotations

import ipaddress
import socket
import socketserver
import sys
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer


class ConnectionDropped(Exception):
    """Raised by the application for the `drop` fault: close the connection without a reply.

    The server of `running()` and `irs-grammar serve` does exactly that; another
    WSGI server does what it does with an application's exception (most answer 500).
    """


# A connection that sends nothing for this long is closed (a slow or stuck client holds no thread).
IDLE_TIMEOUT = 30.0
# What a client that leaves early looks like to the server: nothing worth a line.
_CLIENT_LEFT = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, TimeoutError)


class _Handler(WSGIRequestHandler):
    """wsgiref's handler, quiet, and able to close a connection without a reply (the drop fault)."""

    timeout = IDLE_TIMEOUT  # StreamRequestHandler sets it on the socket

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        # WSGIRequestHandler.handle, with a ServerHandler that knows ConnectionDropped.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref's close() logs through it
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


class _ServerHandler(ServerHandler):
    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], ConnectionDropped):
            # Nothing written: _Handler.handle serves one request, so the connection closes now.
            return
        super().handle_error()

    def log_exception(self, exc_info: Any) -> None:
        pass  # the client gets the 500; a test's output stays clean


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # fifty clients at once are not refused
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that left early costs nothing; any other failure of a connection, one line."""
        error = sys.exc_info()[1]
        if isinstance(error, _CLIENT_LEFT):
            return
        print(f"irs-grammar: a connection from {client_address[0]} failed: {error!r}", file=sys.stderr)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks the resolver for the host's name: slow, or stuck, off the network.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(
    app: Any, host: str = "127.0.0.1", port: int = 0, idle_timeout: float = IDLE_TIMEOUT
) -> WSGIServer:
    """A threading WSGI server for `app` on `host:port` (not started); an idle connection is closed
    after `idle_timeout` seconds."""
    server_class = _Server6 if ":" in host else _Server
    handler = type("_TimedHandler", (_Handler,), {"timeout": idle_timeout})
    server = server_class((host, port), handler)
    server.set_app(app)
    return server


def base_url(host: str, port: int) -> str:
    """`http://host:port`, the host bracketed when it is an IPv6 address."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def is_loopback(host: str) -> bool:
    """Whether `host` is reached from this machine only: 127.0.0.0/8, ::1 or `localhost`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything
