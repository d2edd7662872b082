"""The fake endpoint called as any WSGI server would call it, without a socket."""

from __future__ import annotations

from io import BytesIO
from typing import Any
from wsgiref.util import setup_testing_defaults


def call_wsgi(app: Any, path: str, query: str, method: str = "POST") -> tuple[str, str]:
    """(HTTP status line, body) of one request to the WSGI application `app`."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query.encode("utf-8", "surrogateescape").decode("latin-1"),
        "wsgi.input": BytesIO(),
    }
    setup_testing_defaults(environ)
    seen: list[str] = []
    body = b"".join(app(environ, lambda status, headers: seen.append(status)))
    return seen[0], body.decode("utf-8", "surrogateescape")
