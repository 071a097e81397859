"""`humansense serve`'s server: the companion page over HTTP and one conversation per WebSocket, on one port.

All sessions share one loaded :class:`Models`. Every request's Host must be in
an allowlist (DNS rebinding); the HTTP side serves only a fixed whitelist of
the page's own assets; the WebSocket side checks Origin and (off loopback) a
token at the handshake (:mod:`agent.server.gate`), admits at most ``max_sessions``
conversations, then guards every connection with a size limit, a rate limit, an
idle timeout and a bounded send buffer (:mod:`agent.server.connection`), so one bad
or slow client never affects the others. Every close sends one of the codes
documented in :mod:`agent.server.protocol`.
"""
from __future__ import annotations

import gc
import logging
import socket
import time

from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as ws_serve

from agent.config import Config
from agent.runtime.lanes import Models
from agent.server import protocol
from agent.server.connection import Connection, close_within
from agent.server.gate import Gate, peer, select_subprotocol
from agent.server.hosts import host_key, is_wildcard
from agent.server.limits import ServerLimits
from agent.server.notes import Connected, Disconnected, Note, Observer, TurnedAway

logger = logging.getLogger(__name__)


class CompanionServer:
    """Serves the page and runs one :class:`Session` per WebSocket connection, at most ``max_sessions`` at once.

    ``limits`` default to the config's ``[server]`` section (and :class:`ServerLimits`'
    defaults for the knobs an operator does not set). ``observer``, if given, is told
    of every connection and answered turn (:mod:`agent.server.notes`).
    """

    def __init__(self, config: Config, models: Models, *, token: str | None = None, require_token: bool = False,
                 limits: ServerLimits | None = None, observer: Observer | None = None) -> None:
        self.config = config
        self.models = models
        self.limits = limits or ServerLimits.from_settings(config.server)
        self.gate = Gate(frozenset(host_key(name) for name in self.limits.allowed_hosts), token, require_token)
        self.connections: set[Connection] = set()
        self.observer = observer

    async def start(self, host: str, port: int = 0, *, sock: socket.socket | None = None) -> Server:
        """Listen on ``host``:``port`` (0 picks a free one: see ``server.sockets``), or on ``sock`` already bound
        there (see :func:`agent.server.listen.listen`)."""
        bound = host_key(host)
        if bound and not is_wildcard(bound):
            self.gate.hosts |= {bound}
        where = {"sock": sock} if sock is not None else {"host": host, "port": port}
        return await ws_serve(self._handle, **where, process_request=self.gate,
                              select_subprotocol=select_subprotocol, max_size=self.limits.max_message_bytes,
                              max_queue=16, write_limit=64 * 1024, ping_interval=20, ping_timeout=20,
                              close_timeout=3, server_header="humansense")

    async def _handle(self, ws: ServerConnection) -> None:
        if len(self.connections) >= self.limits.max_sessions:
            await self._turn_away(ws)
            return
        conn = Connection(ws, self.config, self.models, self.limits, self._note)
        self.connections.add(conn)
        self._note(Connected(conn.peer, conn.id, len(self.connections), self.limits.max_sessions))
        began, how = time.monotonic(), "server stopped"
        try:
            how = await conn.run()
        finally:
            self.connections.discard(conn)
            self._note(Disconnected(conn.peer, conn.id, len(self.connections), self.limits.max_sessions,
                                    time.monotonic() - began, conn.answers, how))
            del conn
            if gc.get_freeze_count():  # cheap only with the models frozen, as `serve` does (see there)
                gc.collect()

    async def _turn_away(self, ws: ServerConnection) -> None:
        """At capacity: say so in a message the page can show (a browser never sees an HTTP status), then 1013."""
        sessions, capacity, retry = len(self.connections), self.limits.max_sessions, self.limits.busy_retry_after_s
        logger.warning("turned away %s: %d of %d sessions in progress", peer(ws), sessions, capacity)
        self._note(TurnedAway(peer(ws), sessions, capacity))
        busy = {"type": "busy", "message": f"The server is busy ({sessions} of {capacity} conversations in "
                                           f"progress); try again in {retry} s.",
                "retry_after_s": retry, "sessions": sessions, "capacity": capacity}
        await close_within(ws, 1013, f"server busy: {sessions} of {capacity} sessions", self.limits.close_wait_s,
                           protocol.encode_json(busy))

    def _note(self, note: Note) -> None:
        """Tell the observer; its failure is logged, never the conversation's."""
        if self.observer is None:
            return
        try:
            self.observer(note)
        except Exception:
            logger.exception("the server's observer failed on %s", type(note).__name__)
