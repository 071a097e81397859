"""`humansense serve`: the companion page over HTTP and one conversation per WebSocket, on one port.

All sessions share one loaded :class:`Models`. Every request's Host must be in
an allowlist (DNS rebinding); the HTTP side serves only a fixed whitelist of
the page's own assets; the WebSocket side checks Origin and (off loopback) a
token at the handshake, admits at most ``max_sessions`` conversations, then
guards every connection with a size limit, a rate limit, an idle timeout and a
bounded send buffer, so one bad or slow client never affects the others. Every
close sends one of the codes documented in :mod:`agent.server.protocol`.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import gc
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

from agent.server import protocol
from agent.runtime.clock import WallClock
from agent.config import Config, ServerSettings
from agent.runtime.events import FORWARDED, Event, EventKind, event_record
from agent.runtime.lanes import Models
from agent.conversation.session import Session
from agent.media.sinks.players import TimelinePlayer
from agent.cli.signals import stop_on_signals
from agent.media.sources.socket_source import SocketSource
from speech.types import SpokenAudio

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


_SETTINGS = ServerSettings()
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class ServerLimits:
    """The server's guards; every one bounds memory or time clients can take. Operators set some in ``[server]``."""
    max_sessions: int = _SETTINGS.max_sessions
    allowed_hosts: tuple[str, ...] = _SETTINGS.allowed_hosts
    max_message_bytes: int = _SETTINGS.max_message_bytes
    max_image_side: int = _SETTINGS.max_image_side
    max_image_pixels: int = _SETTINGS.max_image_pixels
    messages_per_s: float = 120.0      # sustained; audio at 20 ms is 50/s, camera 5/s
    burst: int = 240
    idle_timeout_s: float = _SETTINGS.idle_timeout_s  # nothing received for this long → closed
    send_timeout_s: float = 5.0        # one write blocked this long → the client is dropped
    send_buffer_bytes: int = 4 * 1024 * 1024  # queued downstream bytes before the client counts as stalled
    max_audio_ahead_s: float = 2.0     # audio received faster than real time by this much → closed
    ready_timeout_s: float = 60.0      # session setup (TTS warm phrases) must finish within this
    shutdown_timeout_s: float = 3.0    # a closed connection's session gets this long to wind down, then is cancelled
    close_wait_s: float = 1.0          # a close frame not through in this long (a stalled socket) → TCP abort
    busy_retry_after_s: int = 30       # what a client turned away at capacity is told to wait

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> ServerLimits:
        return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # a dual-stack socket reports 127.0.0.1 as ::ffff:127.0.0.1
    return (mapped or address).is_loopback


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class CompanionServer:
    """Serves the page and runs one :class:`Session` per WebSocket connection.

    ``limits`` default to the config's ``[server]`` section (and this module's
    defaults for the knobs an operator does not set).
    """

    def __init__(self, config: Config, models: Models, *, token: str | None = None, require_token: bool = False,
                 limits: ServerLimits | None = None) -> None:
        if require_token and not token:
            raise ValueError("require_token needs a token")
        self.config = config
        self.models = models
        self.token = token
        self.require_token = require_token
        self.limits = limits or ServerLimits.from_settings(config.server)
        self.assets = {path: ((WEB_DIR / name).read_bytes(), ctype) for path, (name, ctype) in ASSETS.items()}
        self.connections: set[_Connection] = set()
        self.hosts = frozenset(_host_key(name) for name in self.limits.allowed_hosts)

    async def start(self, host: str, port: int) -> Server:
        """Listen; ``port`` 0 picks a free one (see ``server.sockets``)."""
        bound = _host_key(host)
        if bound and not _is_wildcard(bound):
            self.hosts |= {bound}
        return await ws_serve(self._handle, host, port, process_request=self._process_request,
                              select_subprotocol=_select_subprotocol, max_size=self.limits.max_message_bytes,
                              max_queue=16, write_limit=64 * 1024, ping_interval=20, ping_timeout=20,
                              close_timeout=3, server_header="humansense")

    # ---- HTTP and handshake ------------------------------------------------------------------
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if not host_allowed(request.headers.get("Host"), connection.local_address, self.hosts):
            logger.warning("rejected %s: Host %r is not allowed", _peer(connection), request.headers.get("Host"))
            return connection.respond(HTTPStatus.FORBIDDEN, "Host not allowed\n")
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
        if len(self.connections) >= self.limits.max_sessions:
            await self._turn_away(ws)
            return
        conn = _Connection(self, ws)
        self.connections.add(conn)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)
            del conn
            if gc.get_freeze_count():  # cheap only with the models frozen, as `serve` does (see there)
                gc.collect()

    async def _turn_away(self, ws: ServerConnection) -> None:
        """At capacity: say so in a message the page can show (a browser never sees an HTTP status), then 1013."""
        sessions, capacity, retry = len(self.connections), self.limits.max_sessions, self.limits.busy_retry_after_s
        logger.warning("turned away %s: %d of %d sessions in progress", _peer(ws), sessions, capacity)
        busy = {"type": "busy", "message": f"The server is busy ({sessions} of {capacity} conversations in "
                                           f"progress); try again in {retry} s.",
                "retry_after_s": retry, "sessions": sessions, "capacity": capacity}
        await _close_within(ws, 1013, f"server busy: {sessions} of {capacity} sessions", self.limits.close_wait_s,
                            protocol.encode_json(busy))


class _Connection:
    """One client: its session, its upstream guards and its bounded downstream queue."""

    def __init__(self, server: CompanionServer, ws: ServerConnection) -> None:
        self.server = server
        self.ws = ws
        self.limits = server.limits
        self.id = secrets.token_hex(4)
        self.clock = WallClock()
        self.source = SocketSource(self.clock, max_image_side=self.limits.max_image_side,
                                   max_image_pixels=self.limits.max_image_pixels)
        player = TimelinePlayer(self.clock, None, self._on_audio)
        self.session = Session(server.config, server.models, self.source, clock=self.clock, player=player,
                               session_id=self.id)
        self.session.subscribe(self._on_event)
        self._out: collections.deque[tuple[bool, str | bytes]] = collections.deque()  # (agent audio?, message)
        self._out_bytes = 0
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._closing = False  # the sender flushes what is queued, then stops
        self._failure_told = False  # the session published its own session_failed event
        self._stalled: asyncio.Future[str] = asyncio.get_running_loop().create_future()  # why the reader stalled
        self._tokens = float(self.limits.burst)
        self._refill_at = time.monotonic()

    async def run(self) -> None:
        logger.info("session %s: %s connected", self.id, _peer(self.ws))
        session = asyncio.create_task(self.session.run(), name=f"session-{self.id}")
        sender = asyncio.create_task(self._send_loop(), name=f"send-{self.id}")
        try:
            close = await self._converse(session)
            if close is not None:
                await self._close(close, sender)
        finally:
            await self._wind_down(session, sender)

    async def _converse(self, session: asyncio.Task[Any]) -> _Close | None:
        """Until the client leaves (None) or the connection must be closed (how): whichever of the client,
        the session and the downstream backlog gives out first."""
        closed = asyncio.create_task(self.ws.wait_closed())
        ready = asyncio.create_task(self._ready.wait())
        helpers = [closed, ready]
        try:
            await asyncio.wait({ready, session, closed}, timeout=self.limits.ready_timeout_s,
                               return_when=asyncio.FIRST_COMPLETED)
            if closed.done():
                return None
            if not self._ready.is_set():
                if session.done():
                    return self._session_over(session)
                return self._fail(f"the session did not start within {self.limits.ready_timeout_s:g} s")
            receiver = asyncio.create_task(self._receive_loop(), name=f"receive-{self.id}")
            helpers.append(receiver)
            await asyncio.wait({receiver, session, self._stalled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
        if self._stalled.done():
            return _Close(1008, f"too slow a reader: {self._stalled.result()}")
        if not receiver.cancelled():
            exc = receiver.exception()
            if isinstance(exc, _Close):
                return exc
            if exc is None or isinstance(exc, ConnectionClosed):
                return None
            logger.error("session %s: handling a message failed", self.id, exc_info=exc)
            return self._fail(f"internal error ({type(exc).__name__})")
        return self._session_over(session)

    def _session_over(self, session: asyncio.Task[Any]) -> _Close:
        """The session ended with the client still connected: say why, then close (nothing would answer it)."""
        if session.cancelled():
            return self._fail("the session was cancelled")
        exc = session.exception()
        if exc is not None:
            return self._fail(f"{type(exc).__name__}: {exc}")
        failure = getattr(session.result(), "failure", None)
        return self._fail(failure) if failure else _Close(1011, "session ended")

    def _fail(self, reason: str) -> _Close:
        reason = _one_line(reason)
        logger.warning("session %s: failed (%s)", self.id, reason)
        if not self._failure_told:
            self._send_now(protocol.encode_json({"type": "session_failed", "reason": reason}))
        return _Close(1011, f"session failed: {reason}")

    async def _close(self, close: _Close, sender: asyncio.Task[None]) -> None:
        """Flush what is queued (unless the client stopped reading), then the close frame, all within close_wait_s."""
        logger.info("session %s: closing (%d %s)", self.id, close.code, close.reason)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.close_wait_s
        if self._stalled.done():
            sender.cancel()  # its backlog is what the client could not read
        else:
            self._closing = True
            self._wake.set()
            await asyncio.wait({sender}, timeout=self.limits.close_wait_s)
        await _close_within(self.ws, close.code, close.reason, max(0.0, deadline - loop.time()))

    async def _wind_down(self, session: asyncio.Task[Any], sender: asyncio.Task[None]) -> None:
        """Stop the session (cancelled if it takes too long) and the sender; the one place a failure is logged."""
        self.source.close()
        if not session.done():
            self.session.stop_agent("disconnect")
            self.session.request_stop()
            await asyncio.wait({session}, timeout=self.limits.shutdown_timeout_s)
            if not session.done():
                logger.info("session %s: cancelled after %g s winding down", self.id, self.limits.shutdown_timeout_s)
                session.cancel()
        (outcome,) = await asyncio.gather(session, return_exceptions=True)
        if isinstance(outcome, Exception):
            logger.error("session %s failed", self.id, exc_info=outcome)
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        logger.info("session %s: ended", self.id)

    # ---- upstream ----------------------------------------------------------------------------
    async def _receive_loop(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: 3.11's wait_for swallows a cancel that lands as a message arrives, and
            # this loop must stop when the session ends while a client floods it
            try:
                async with asyncio.timeout(self.limits.idle_timeout_s):
                    message = await self.ws.recv()
            except TimeoutError:
                raise _Close(1008, f"idle timeout: nothing received for {self.limits.idle_timeout_s:g} s") from None
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
                raise protocol.ProtocolError("bad_settings", f"voice {protocol.shown(control.voice)} is not available; "
                                                             f"this server speaks with {tts.voice!r} ({tts.backend})")
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
                           "audio_frame_bytes": [protocol.AUDIO_MIN_BYTES, protocol.AUDIO_MAX_BYTES],
                           "max_image_side": self.limits.max_image_side,
                           "max_image_pixels": self.limits.max_image_pixels}}))
            self._ready.set()
            return
        if event.kind not in FORWARDED:
            return
        if event.kind is EventKind.SESSION_FAILED:
            self._failure_told = True
        if event.kind in (EventKind.BARGE_IN, EventKind.RESPONSE_DROPPED):
            self._purge_audio()
        self._send_now(protocol.encode_json(event_record(event)))

    def _on_audio(self, start: float, pcm16k: np.ndarray, audio: SpokenAudio) -> None:
        self._send_now(protocol.encode_json({"type": "agent_audio", "t": round(start, 4), "samples": len(pcm16k),
                                             "text": audio.text}), audio=True)
        self._send_now(protocol.encode_audio(pcm16k), audio=True)

    def _send_now(self, message: str | bytes, audio: bool = False) -> None:
        """Queue without blocking; a client whose backlog exceeds the buffer is dropped, not waited for."""
        if self._stalled.done():
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
                    async with asyncio.timeout(self.limits.send_timeout_s):
                        await self.ws.send(message)
                except TimeoutError:
                    self._drop(f"write blocked for {self.limits.send_timeout_s:g} s")
                    return
                except ConnectionClosed:
                    return
            if self._closing:
                return

    def _drop(self, why: str) -> None:
        """A stalled reader: forget its backlog and have the connection closed with 1008 (see :meth:`_close`)."""
        if self._stalled.done():
            return
        self._out.clear()
        self._out_bytes = 0
        logger.warning("session %s: too slow a reader (%s)", self.id, why)
        self._stalled.set_result(why)


async def _close_within(ws: ServerConnection, code: int, reason: str, seconds: float, last: str | None = None) -> None:
    """Send ``last`` (if any) and a close frame, and wait for the client's close, for at most ``seconds``; then
    cut the TCP connection. websockets' own close waits on the write buffer without a bound, so a client that
    stopped reading would hold it forever."""
    try:
        async with asyncio.timeout(seconds):
            if last is not None:
                await ws.send(last)
            await ws.close(code, _close_reason(reason))
    except TimeoutError:
        logger.info("%s: close frame %d not through in %g s; connection cut", _peer(ws), code, seconds)
        ws.transport.abort()
    except ConnectionClosed:
        pass


def _close_reason(text: str) -> str:
    """A close frame carries at most 123 bytes of reason."""
    data = text.encode()
    return text if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def host_allowed(header: str | None, local: Any, names: frozenset[str]) -> bool:
    """Whether a Host header names this server: one of ``names``, or the address the client reached it on.

    A page on a rebound DNS name (evil.example resolving to 127.0.0.1) sends
    its own name as Host, and its Origin matches it, so only a fixed list stops
    it. The port is not compared: SSH tunnels and proxies change it, and no
    rebinding attack needs another one.
    """
    name = _host_key(_host_part(header)) if header else ""
    if not name:
        return False
    if name in names:
        return True
    here = _host_key(str(local[0])) if local else None
    return name == here or (here is not None and is_loopback(here) and name in LOOPBACK_NAMES)


def _host_part(header: str) -> str:
    """The host of a Host header value, without the port ("[::1]:8765" → "::1"); "" when malformed."""
    header = header.strip()
    if header.startswith("["):
        host, sep, rest = header[1:].partition("]")
        return host if sep and (not rest or (rest[0] == ":" and rest[1:].isdigit())) else ""
    host, _, port = header.partition(":")
    return host if not port or port.isdigit() else ""


def _host_key(host: str) -> str:
    """A host name or address in one spelling: lower case, no brackets or trailing dot, IPv4-mapped unwrapped."""
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    return str(getattr(address, "ipv4_mapped", None) or address)


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


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
    # A finished conversation is a few thousand objects in reference cycles (callbacks hold their owners) that
    # keep megabytes of audio buffers alive. Left to the collector's own schedule they piled up for dozens of
    # sessions (the soak's RSS growth): full collections come only after ~70k new objects, and with the ~100k
    # objects of the loaded models each took ~50 ms on the loop. Frozen out of its sight, a full collection
    # takes about a millisecond, so each connection's end collects what it left.
    gc.collect()
    gc.freeze()
    server = CompanionServer(cfg, models, token=token, require_token=require)
    stop = asyncio.Event()
    stops = stop_on_signals(stop.set)
    try:
        ws_server = await server.start(host, port)
    except OSError as exc:
        console.print(f"[red]error[/red]: cannot listen on {host}:{port}: {exc.strerror or exc}")
        await models.aclose()
        return 2
    port = ws_server.sockets[0].getsockname()[1]  # the one picked, when asked for port 0
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if require else "")
    console.print(f"[bold]humansense[/bold] companion page: [bold]{url}[/bold]  (Ctrl-C to stop)")
    if not is_loopback(host):
        console.print("[yellow]note[/yellow]: browsers allow the microphone only on https:// or localhost; "
                      "from another machine use an HTTPS reverse proxy or an SSH tunnel")
    try:
        await stop.wait()
    finally:
        ws_server.close(reason="server shutting down")  # open conversations get close code 1001
        await ws_server.wait_closed()
        await models.aclose()
    return stops.exit_code
