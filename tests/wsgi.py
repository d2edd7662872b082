"""The fake endpoint called as any WSGI server would call it, without a socket."""

from __future__ import annotations

from io import BytesIO
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults


def call_wsgi(app: Any, path: str, query: str, method: str = "POST") -> tuple[str, str]:
    """(HTTP status line, body) of one request to the WSGI application `app`."""
    status, _, body = call_wsgi_whole(app, path, query, method)
    return status, body


def call_url(app: Any, url: str) -> tuple[str, str]:
    """(HTTP status line, body) of a POST to a whole URL (any host: only its path and query count)."""
    parts = urlsplit(url)
    return call_wsgi(app, parts.path, parts.query)


def call_wsgi_whole(
    app: Any, path: str, query: str, method: str = "POST", body: bytes = b"", length: str | None = None
) -> tuple[str, dict[str, str], str]:
    """(HTTP status line, headers by their names in lower case, body) of one request to `app`, with
    a request body and its Content-Length (`length`: as given, None for the body's own)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query.encode("utf-8", "surrogateescape").decode("latin-1"),
        "CONTENT_LENGTH": str(len(body)) if length is None else length,
        "wsgi.input": BytesIO(body),
    }
    setup_testing_defaults(environ)
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    answer = b"".join(app(environ, lambda status, headers: seen.append((status, headers))))
    (status, headers), *_ = seen
    return status, {name.lower(): value for name, value in headers}, answer.decode("utf-8", "surrogateescape")
