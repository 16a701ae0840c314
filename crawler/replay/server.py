"""A static HTTP server on 127.0.0.1 (a free port) serving an in-memory site from a thread.

It also answers as an HTTP proxy for any host name, so a crawl can address the site under a stable
name (the port changes every run; article URLs must not, or a second replay would see new URLs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import urlsplit

from loguru import logger


class Served(Protocol):
    @property
    def body(self) -> bytes: ...
    @property
    def content_type(self) -> str: ...


def _handler(pages: Mapping[str, Served]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            # Absolute request URIs arrive when a client uses this server as its HTTP proxy.
            path = urlsplit(self.path).path or "/"
            page = pages.get(path) or (pages.get(path + "index.html") if path.endswith("/") else None)
            if page is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            self.wfile.write(page.body)

        def log_message(self, format: str, *args: object) -> None:
            logger.debug("portal: {}", format % args)

    return Handler


@contextmanager
def serve(pages: Mapping[str, Served]) -> Iterator[str]:
    """Serve ``pages`` until the block ends; yields the base URL like ``http://127.0.0.1:PORT``."""
    with serve_handler(_handler(pages)) as base_url:
        yield base_url


@contextmanager
def serve_handler(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run any request handler on 127.0.0.1 (a free port) in a thread until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="replay-portal", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
