"""The HTTP side of the server: the page's own assets, and the handshake's Host, Origin and token checks."""
from __future__ import annotations

import dataclasses
import hmac
import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from agent.server import protocol
from agent.server.hosts import host_allowed, is_loopback

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
ASSETS = {  # URL path → (file in agent/server/web, content type); nothing else is ever served
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/worklet.js": ("worklet.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob: mediastream:; connect-src 'self'; worker-src 'self' blob:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
WS_PATH = "/ws"


class Gate:
    """Answers every HTTP request: an asset, a refusal, or None to let a checked WebSocket handshake through."""

    def __init__(self, hosts: frozenset[str], token: str | None, require_token: bool) -> None:
        if require_token and not token:
            raise ValueError("require_token needs a token")
        self.hosts = hosts
        self.token = token
        self.require_token = require_token
        self.assets = {path: ((WEB_DIR / name).read_bytes(), ctype) for path, (name, ctype) in ASSETS.items()}

    def __call__(self, connection: ServerConnection, request: Request) -> Response | None:
        if not host_allowed(request.headers.get("Host"), connection.local_address, self.hosts):
            logger.warning("rejected %s: Host %r is not allowed", peer(connection), request.headers.get("Host"))
            return connection.respond(HTTPStatus.FORBIDDEN, "Host not allowed\n")
        url = urlsplit(request.path)
        if url.path != WS_PATH:
            return self._static(connection, url.path)
        if not _origin_ok(request.headers, connection.remote_address):
            logger.warning("rejected %s: Origin %r does not match Host %r", peer(connection),
                           request.headers.get("Origin"), request.headers.get("Host"))
            return connection.respond(HTTPStatus.FORBIDDEN, "Origin not allowed\n")
        if self.require_token:
            offered = _offered_token(url.query, request.headers)
            if offered is None:
                return connection.respond(HTTPStatus.UNAUTHORIZED, "token required: add ?token=TOKEN\n")
            assert self.token is not None
            if not hmac.compare_digest(offered.encode(), self.token.encode()):
                logger.warning("rejected %s: wrong token", peer(connection))
                return connection.respond(HTTPStatus.FORBIDDEN, "wrong token\n")
        return None

    def _static(self, connection: ServerConnection, path: str) -> Response:
        asset = self.assets.get(path)
        if asset is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        body, ctype = asset
        response = connection.respond(HTTPStatus.OK, "")
        headers = Headers([(k, v) for k, v in response.headers.raw_items() if k.lower() not in ("content-type", "content-length")])
        headers["Content-Type"] = ctype
        headers["Content-Length"] = str(len(body))
        headers["Cache-Control"] = "no-store"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Content-Security-Policy"] = CSP
        return dataclasses.replace(response, headers=headers, body=body)


def select_subprotocol(connection: ServerConnection, subprotocols: Any) -> str | None:
    """Echo the token subprotocol a browser offered, as the handshake requires."""
    return next((p for p in subprotocols if p.startswith(protocol.TOKEN_SUBPROTOCOL)), None)


def _offered_token(query: str, headers: Headers) -> str | None:
    values = parse_qs(query).get("token")
    if values:
        return values[0]
    for header in headers.get_all("Sec-WebSocket-Protocol"):
        for item in header.split(","):
            item = item.strip()
            if item.startswith(protocol.TOKEN_SUBPROTOCOL):
                return item[len(protocol.TOKEN_SUBPROTOCOL):]
    return None


def _origin_ok(headers: Headers, remote: Any) -> bool:
    origin = headers.get("Origin")
    if origin is None:  # not a browser: only trusted from this machine
        return bool(remote) and is_loopback(str(remote[0]))
    host = headers.get("Host", "")
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(host) and netloc.lower() == host.lower()


def peer(ws: ServerConnection) -> str:
    """The client's address as host:port, for logs and the operator's lines."""
    remote = ws.remote_address
    return f"{remote[0]}:{remote[1]}" if remote else "?"
