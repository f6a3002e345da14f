"""The sandbox's own HTTP server: a threaded WSGI server with the sandbox URLconf and no
portal middleware (no sessions, no CSRF), sharing the portal's database."""
from __future__ import annotations

import threading

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.http import HttpResponse

URLCONF = "connectors.sandbox.urls"


class SandboxHandler(WSGIHandler):
    """Django's WSGI handler, routed by the sandbox URLconf, with no middleware at all."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)

    def get_response(self, request: WSGIRequest) -> HttpResponse:
        request.urlconf = URLCONF  # per request, so a portal server in the same process is unaffected
        return super().get_response(request)


def make_server(host: str = "127.0.0.1", port: int = 8001) -> ThreadedWSGIServer:
    """A bound, not yet serving, threaded server (port 0 picks a free port)."""
    server = ThreadedWSGIServer((host, port), WSGIRequestHandler, allow_reuse_address=True)
    server.set_app(SandboxHandler())
    return server


def serve_in_background(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadedWSGIServer, threading.Thread]:
    """Start a server in a daemon thread; stop it with ``server.shutdown(); server.server_close()``."""
    server = make_server(host, port)
    # A short poll interval lets shutdown() return at once (tests start a server per test).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-server", daemon=True)
    thread.start()
    return server, thread
