"""`humansense serve`: the companion page over HTTP and one conversation per WebSocket, on one port.

All sessions share one loaded :class:`Models`. The HTTP side serves only a
fixed whitelist of the page's own assets; the WebSocket side checks Origin
and (off loopback) a token at the handshake, then guards every connection
with a size limit, a rate limit, an idle timeout and a bounded send buffer, so
one bad or slow client never affects the others. The wire format is in
:mod:`agent.protocol`.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import hmac
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from agent import protocol
from agent.clock import WallClock
from agent.config import Config
from agent.events import FORWARDED, Event, EventKind, event_record
from agent.models import Models
from agent.session import Session
from agent.sinks.players import TimelinePlayer
from agent.signals import stop_on_signals
from agent.sources.socket_source import SocketSource
from speech.types import SpokenAudio

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
ASSETS = {  # URL path → (file in agent/web, content type); nothing else is ever served
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


@dataclass(frozen=True)
class ServerLimits:
    """Per-connection guards; every one bounds memory or time a single client can take."""
    max_message_bytes: int = 256 * 1024
    messages_per_s: float = 120.0      # sustained; audio at 20 ms is 50/s, camera 5/s
    burst: int = 240
    idle_timeout_s: float = 20.0       # nothing received for this long → closed
    send_timeout_s: float = 5.0        # one write blocked this long → the client is dropped
    send_buffer_bytes: int = 4 * 1024 * 1024  # queued downstream bytes before the client counts as stalled
    max_audio_ahead_s: float = 2.0     # audio received faster than real time by this much → closed
    ready_timeout_s: float = 60.0      # session setup (shared TTS warm phrases) must finish within this
    shutdown_timeout_s: float = 3.0    # a closed connection's session gets this long to wind down, then is cancelled


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class CompanionServer:
    """Serves the page and runs one :class:`Session` per WebSocket connection."""

    def __init__(self, config: Config, models: Models, *, token: str | None = None, require_token: bool = False,
                 limits: ServerLimits = ServerLimits()) -> None:
        if require_token and not token:
            raise ValueError("require_token needs a token")
        self.config = config
        self.models = models
        self.token = token
        self.require_token = require_token
        self.limits = limits
        self.assets = {path: ((WEB_DIR / name).read_bytes(), ctype) for path, (name, ctype) in ASSETS.items()}
        self.connections: set[_Connection] = set()

    async def start(self, host: str, port: int) -> Server:
        """Listen; ``port`` 0 picks a free one (see ``server.sockets``)."""
        return await ws_serve(self._handle, host, port, process_request=self._process_request,
                              select_subprotocol=_select_subprotocol, max_size=self.limits.max_message_bytes,
                              max_queue=16, write_limit=64 * 1024, ping_interval=20, ping_timeout=20,
                              close_timeout=3, server_header="humansense")

    # ---- HTTP and handshake ------------------------------------------------------------------
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path != WS_PATH:
            return self._static(connection, url.path)
        if not _origin_ok(request.headers, connection.remote_address):
            logger.warning("rejected %s: Origin %r does not match Host %r", _peer(connection),
                           request.headers.get("Origin"), request.headers.get("Host"))
            return connection.respond(HTTPStatus.FORBIDDEN, "Origin not allowed\n")
        if self.require_token:
            offered = _offered_token(url.query, request.headers)
            if offered is None:
                return connection.respond(HTTPStatus.UNAUTHORIZED, "token required: add ?token=TOKEN\n")
            assert self.token is not None
            if not hmac.compare_digest(offered.encode(), self.token.encode()):
                logger.warning("rejected %s: wrong token", _peer(connection))
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

    async def _handle(self, ws: ServerConnection) -> None:
        conn = _Connection(self, ws)
        self.connections.add(conn)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)


class _Connection:
    """One client: its session, its upstream guards and its bounded downstream queue."""

    def __init__(self, server: CompanionServer, ws: ServerConnection) -> None:
        self.server = server
        self.ws = ws
        self.limits = server.limits
        self.id = secrets.token_hex(4)
        self.clock = WallClock()
        self.source = SocketSource(self.clock)
        player = TimelinePlayer(self.clock, None, self._on_audio)
        self.session = Session(server.config, server.models, self.source, clock=self.clock, player=player,
                               session_id=self.id)
        self.session.subscribe(self._on_event)
        self._out: collections.deque[tuple[bool, str | bytes]] = collections.deque()  # (agent audio?, message)
        self._out_bytes = 0
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._dropped = False
        self._tokens = float(self.limits.burst)
        self._refill_at = time.monotonic()

    async def run(self) -> None:
        logger.info("session %s: %s connected", self.id, _peer(self.ws))
        run_task = asyncio.create_task(self.session.run(), name=f"session-{self.id}")
        sender = asyncio.create_task(self._send_loop(), name=f"send-{self.id}")
        try:
            await self._wait_ready(run_task)
            await self._receive_loop()
        except _Close as exc:
            logger.info("session %s: closing (%d %s)", self.id, exc.code, exc.reason)
            await self.ws.close(exc.code, exc.reason)
        except ConnectionClosed:
            pass
        finally:
            self.source.close()
            self.session.stop_agent("disconnect")
            self.session.request_stop()
            try:
                await asyncio.wait_for(run_task, self.limits.shutdown_timeout_s)
            except asyncio.TimeoutError:
                logger.info("session %s: cancelled after %g s winding down", self.id, self.limits.shutdown_timeout_s)
            except Exception:
                logger.exception("session %s failed", self.id)
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            logger.info("session %s: ended", self.id)

    async def _wait_ready(self, run_task: asyncio.Task[Any]) -> None:
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait({ready, run_task}, timeout=self.limits.ready_timeout_s, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if not self._ready.is_set():
            raise _Close(1011, "session could not start")

    # ---- upstream ----------------------------------------------------------------------------
    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await asyncio.wait_for(self.ws.recv(), self.limits.idle_timeout_s)
            except asyncio.TimeoutError:
                raise _Close(1008, f"idle timeout: nothing received for {self.limits.idle_timeout_s:g} s") from None
            if self._dropped:
                return
            self._rate_check()
            try:
                if isinstance(message, bytes):
                    await self._on_binary(message)
                else:
                    self._on_control(message)
            except protocol.ProtocolError as exc:
                self._send_now(protocol.error(exc.code, str(exc)))

    def _rate_check(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.limits.burst, self._tokens + (now - self._refill_at) * self.limits.messages_per_s)
        self._refill_at = now
        if self._tokens < 1:
            raise _Close(1008, f"rate limit: over {self.limits.messages_per_s:g} messages/s")
        self._tokens -= 1

    async def _on_binary(self, data: bytes) -> None:
        kind, payload = protocol.parse_binary(data)
        if kind == protocol.KIND_AUDIO:
            await self.source.feed_audio(protocol.decode_audio(payload))
            if self.source.audio_ahead_s > self.limits.max_audio_ahead_s:
                raise _Close(1008, "audio arrives faster than real time")
        else:
            try:
                await self.source.feed_jpeg(payload)
            except ValueError as exc:
                raise protocol.ProtocolError("bad_jpeg", str(exc)) from None

    def _on_control(self, text: str) -> None:
        control = protocol.parse_control(text)
        if control.type == "stop":
            self._purge_audio()
            self.session.stop_agent("client")
        elif control.type == "ping":
            self._send_now(protocol.encode_json({"type": "pong", "id": control.id, "t": round(self.clock.now(), 4)}))
        elif control.type == "settings":
            tts = self.session.config.tts
            if control.voice is not None and control.voice != tts.voice:
                raise protocol.ProtocolError("bad_settings", f"voice {control.voice!r} is not available; this server "
                                                             f"speaks with {tts.voice!r} ({tts.backend})")
            if control.speed is not None:
                # the session reads tts settings per sentence, so the new rate applies from the next sentence
                self.session.config = dataclasses.replace(self.session.config,
                                                          tts=dataclasses.replace(tts, speed=control.speed))
            self._send_now(protocol.encode_json({"type": "settings", **self._settings()}))

    def _settings(self) -> dict[str, Any]:
        return {"voice": self.session.config.tts.voice, "speed": self.session.config.tts.speed}

    # ---- downstream --------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if event.kind is EventKind.SESSION_STARTED:
            self._send_now(protocol.encode_json({
                "type": "hello", "protocol": protocol.PROTOCOL_VERSION, "session": self.id,
                "sample_rate": protocol.SAMPLE_RATE, "brain": self.server.models.brain.name, **self._settings(),
                "limits": {"max_message_bytes": self.limits.max_message_bytes,
                           "messages_per_s": self.limits.messages_per_s, "idle_timeout_s": self.limits.idle_timeout_s,
                           "audio_frame_bytes": [protocol.AUDIO_MIN_BYTES, protocol.AUDIO_MAX_BYTES]}}))
            self._ready.set()
            return
        if event.kind not in FORWARDED:
            return
        if event.kind in (EventKind.BARGE_IN, EventKind.RESPONSE_DROPPED):
            self._purge_audio()
        self._send_now(protocol.encode_json(event_record(event)))

    def _on_audio(self, start: float, pcm16k: np.ndarray, audio: SpokenAudio) -> None:
        self._send_now(protocol.encode_json({"type": "agent_audio", "t": round(start, 4), "samples": len(pcm16k),
                                             "text": audio.text}), audio=True)
        self._send_now(protocol.encode_audio(pcm16k), audio=True)

    def _send_now(self, message: str | bytes, audio: bool = False) -> None:
        """Queue without blocking; a client whose backlog exceeds the buffer is dropped, not waited for."""
        if self._dropped:
            return
        self._out.append((audio, message))
        self._out_bytes += len(message)
        self._wake.set()
        if self._out_bytes > self.limits.send_buffer_bytes:
            self._drop(f"send buffer over {self.limits.send_buffer_bytes} bytes")

    def _purge_audio(self) -> None:
        """After a barge-in, agent audio not yet sent must never be heard."""
        kept = collections.deque(item for item in self._out if not item[0])
        self._out_bytes = sum(len(message) for _, message in kept)
        self._out = kept

    async def _send_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._out:
                _, message = self._out.popleft()
                self._out_bytes -= len(message)
                try:
                    await asyncio.wait_for(self.ws.send(message), self.limits.send_timeout_s)
                except asyncio.TimeoutError:
                    self._drop(f"write blocked for {self.limits.send_timeout_s:g} s")
                    return
                except ConnectionClosed:
                    return

    def _drop(self, why: str) -> None:
        """A stalled reader: cut the TCP connection at once (a close handshake would wait on it too)."""
        if self._dropped:
            return
        self._dropped = True
        self._out.clear()
        self._out_bytes = 0
        logger.warning("session %s: dropping slow client (%s)", self.id, why)
        self.ws.transport.abort()


def _select_subprotocol(connection: ServerConnection, subprotocols: Any) -> str | None:
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


def _peer(ws: ServerConnection) -> str:
    remote = ws.remote_address
    return f"{remote[0]}:{remote[1]}" if remote else "?"


async def serve(cfg: Config, host: str, port: int, token: str | None, console: Any) -> int:
    """Load the models once, then serve until SIGINT/SIGTERM; returns the exit code."""
    require = token is not None or not is_loopback(host)
    if require and not token:
        token = secrets.token_urlsafe(18)
    console.print("loading models …")
    try:
        models = await asyncio.to_thread(Models.load, cfg)
        await models.warm_up_brain()
    except (FileNotFoundError, ValueError, RuntimeError, ImportError) as exc:
        console.print(f"[red]error[/red]: loading models failed: {exc}")
        return 2
    server = CompanionServer(cfg, models, token=token, require_token=require)
    stop = asyncio.Event()
    stop_on_signals(stop.set)
    try:
        ws_server = await server.start(host, port)
    except OSError as exc:
        console.print(f"[red]error[/red]: cannot listen on {host}:{port}: {exc.strerror or exc}")
        await models.aclose()
        return 2
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if require else "")
    console.print(f"[bold]humansense[/bold] companion page: [bold]{url}[/bold]  (Ctrl-C to stop)")
    if not is_loopback(host):
        console.print("[yellow]note[/yellow]: browsers allow the microphone only on https:// or localhost; "
                      "from another machine use an HTTPS reverse proxy or an SSH tunnel")
    try:
        await stop.wait()
    finally:
        ws_server.close()
        await ws_server.wait_closed()
        await models.aclose()
    return 0
