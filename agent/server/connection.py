"""One client's conversation over its WebSocket: the session, the upstream guards and the bounded downstream queue."""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import secrets
import time
from typing import Any

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from agent.config import Config
from agent.conversation.session import Session
from agent.media.sinks.players import TimelinePlayer
from agent.media.sources.socket_source import SocketSource
from agent.runtime.clock import WallClock
from agent.runtime.events import FORWARDED, Event, EventKind, event_record
from agent.runtime.lanes import Models
from agent.server import protocol
from agent.server.gate import peer
from agent.server.limits import ServerLimits
from agent.server.notes import Answered, Observer
from floor import SAMPLE_RATE, error_line, one_line
from speech.types import SpokenAudio

logger = logging.getLogger(__name__)


class Close(Exception):
    """The connection must be closed with ``code`` and ``reason`` (see :mod:`agent.server.protocol`)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Connection:
    """One client: its session, its upstream guards and its bounded downstream queue."""

    def __init__(self, ws: ServerConnection, config: Config, models: Models, limits: ServerLimits,
                 notify: Observer) -> None:
        self.ws = ws
        self.peer = peer(ws)
        self.models = models
        self.limits = limits
        self._notify = notify
        self.answers = 0
        self.id = secrets.token_hex(4)
        self.clock = WallClock()
        self.source = SocketSource(self.clock, max_image_side=self.limits.max_image_side,
                                   max_image_pixels=self.limits.max_image_pixels)
        player = TimelinePlayer(self.clock, None, self._on_audio)
        self.session = Session(config, models, self.source, clock=self.clock, player=player,
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

    async def run(self) -> str:
        """Converse until the end; returns how it ended, in words."""
        logger.info("session %s: %s connected", self.id, self.peer)
        session = asyncio.create_task(self.session.run(), name=f"session-{self.id}")
        sender = asyncio.create_task(self._send_loop(), name=f"send-{self.id}")
        close = None
        try:
            close = await self._converse(session)
            if close is not None:
                await self._close(close, sender)
        finally:
            await self._wind_down(session, sender)
        return self._how(close)

    def _how(self, close: Close | None) -> str:
        if close is not None:
            return f"closed {close.code} ({close.reason})"
        if self.ws.protocol.close_rcvd_then_sent:
            return "client left"
        sent = self.ws.protocol.close_sent
        return f"closed {sent.code} ({sent.reason})" if sent is not None else "connection lost"

    async def _converse(self, session: asyncio.Task[Any]) -> Close | None:
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
            return Close(1008, f"too slow a reader: {self._stalled.result()}")
        if not receiver.cancelled():
            exc = receiver.exception()
            if isinstance(exc, Close):
                return exc
            if exc is None or isinstance(exc, ConnectionClosed):
                return None
            logger.error("session %s: handling a message failed", self.id, exc_info=exc)
            return self._fail(f"internal error ({type(exc).__name__})")
        return self._session_over(session)

    def _session_over(self, session: asyncio.Task[Any]) -> Close:
        """The session ended with the client still connected: say why, then close (nothing would answer it)."""
        if session.cancelled():
            return self._fail("the session was cancelled")
        exc = session.exception()
        if exc is not None:
            return self._fail(error_line(exc, typed=True))
        failure = getattr(session.result(), "failure", None)
        return self._fail(failure) if failure else Close(1011, "session ended")

    def _fail(self, reason: str) -> Close:
        reason = one_line(reason, 200)
        logger.warning("session %s: failed (%s)", self.id, reason)
        if not self._failure_told:
            self._send_now(protocol.encode_json({"type": EventKind.SESSION_FAILED.value, "reason": reason}))
        return Close(1011, f"session failed: {reason}")

    async def _close(self, close: Close, sender: asyncio.Task[None]) -> None:
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
        await close_within(self.ws, close.code, close.reason, max(0.0, deadline - loop.time()))

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
                raise Close(1008, f"idle timeout: nothing received for {self.limits.idle_timeout_s:g} s") from None
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
            raise Close(1008, f"rate limit: over {self.limits.messages_per_s:g} messages/s")
        self._tokens -= 1

    async def _on_binary(self, data: bytes) -> None:
        kind, payload = protocol.parse_binary(data)
        if kind == protocol.KIND_AUDIO:
            await self.source.feed_audio(protocol.decode_audio(payload))
            if self.source.audio_ahead_s > self.limits.max_audio_ahead_s:
                raise Close(1008, "audio arrives faster than real time")
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
                "sample_rate": SAMPLE_RATE, "brain": self.models.brain.name, **self._settings(),
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
        if event.kind is EventKind.TURN:
            self._answered(event.data)
        if event.kind in (EventKind.BARGE_IN, EventKind.RESPONSE_DROPPED):
            self._purge_audio()
        self._send_now(protocol.encode_json(event_record(event)))

    def _answered(self, turn: dict[str, Any]) -> None:
        latency = turn["latency_ms"].get("voice_to_voice")
        # a turn heard in part (stopped in its first sentence) has no agent_text yet, but it had a first sound
        if turn.get("decision") != "respond" or (latency is None and not turn.get("agent_text")):
            return
        self.answers += 1
        self._notify(Answered(self.peer, self.id, latency, turn.get("agent_emotion"), bool(turn.get("interrupted"))))

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


async def close_within(ws: ServerConnection, code: int, reason: str, seconds: float, last: str | None = None) -> None:
    """Send ``last`` (if any) and a close frame, and wait for the client's close, for at most ``seconds``; then
    cut the TCP connection. websockets' own close waits on the write buffer without a bound, so a client that
    stopped reading would hold it forever."""
    try:
        async with asyncio.timeout(seconds):
            if last is not None:
                await ws.send(last)
            await ws.close(code, _close_reason(reason))
    except TimeoutError:
        logger.info("%s: close frame %d not through in %g s; connection cut", peer(ws), code, seconds)
        ws.transport.abort()
    except ConnectionClosed:
        pass


def _close_reason(text: str) -> str:
    """A close frame carries at most 123 bytes of reason."""
    data = text.encode()
    return text if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."

