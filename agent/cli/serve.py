"""The `serve` command: load the models once, serve the companion page until a signal, and tell the operator,
one line each, of every connection and every answered turn."""
from __future__ import annotations

import asyncio
import gc
import secrets
import socket
import time
from typing import Any, Awaitable, Callable

from rich.console import Console
from rich.markup import escape

from agent.cli.signals import stop_on_signals
from agent.config import Config
from agent.server.app import CompanionServer
from agent.server.hosts import is_loopback
from agent.server.notes import Answered, Connected, Disconnected, Note, TurnedAway


class ServeLines:
    """The server's observer in the terminal: a wall-clock time, what happened, who, and the capacity used."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, note: Note) -> None:
        self.console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {escape(self.line(note))}")

    @staticmethod
    def line(note: Note) -> str:
        if isinstance(note, Connected):
            return f"connected {note.peer} ({note.sessions} of {note.capacity})"
        if isinstance(note, Answered):
            when = f"in {note.latency_ms:.0f} ms" if note.latency_ms is not None else "unprompted"
            return (f"answered {note.peer} {when}, {note.emotion or 'neutral'}"
                    + (", interrupted" if note.interrupted else ""))
        if isinstance(note, Disconnected):
            answers = f"{note.answers} answer" + ("" if note.answers == 1 else "s")
            return (f"ended {note.peer} after {_duration(note.seconds)}, {answers}, {note.how} "
                    f"({note.sessions} of {note.capacity})")
        assert isinstance(note, TurnedAway)
        return f"turned away {note.peer}: busy ({note.sessions} of {note.capacity})"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


async def serve(cfg: Config, host: str, listener: socket.socket, token: str | None, console: Console,
                load_models: Callable[[Config], Awaitable[Any]]) -> int:
    """Load the models, then serve on ``listener`` (already bound) until SIGINT/SIGTERM; returns the exit code."""
    require = token is not None or not is_loopback(host)
    if require and not token:
        token = secrets.token_urlsafe(18)
    try:
        console.print("loading models …")
        models = await load_models(cfg)
    except BaseException:
        listener.close()
        raise
    # A finished conversation is a few thousand objects in reference cycles (callbacks hold their owners) that
    # keep megabytes of audio buffers alive. Left to the collector's own schedule they piled up for dozens of
    # sessions (the soak's RSS growth): full collections come only after ~70k new objects, and with the ~100k
    # objects of the loaded models each took ~50 ms on the loop. Frozen out of its sight, a full collection
    # takes about a millisecond, so each connection's end collects what it left.
    gc.collect()
    gc.freeze()
    server = CompanionServer(cfg, models, token=token, require_token=require, observer=ServeLines(console))
    stop = asyncio.Event()
    stops = stop_on_signals(stop.set)
    ws_server = await server.start(host, sock=listener)
    port = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if require else "")
    console.print(f"[bold]humansense[/bold] companion page: [bold]{escape(url)}[/bold]  (Ctrl-C to stop)")
    console.print(f"[dim]up to {server.limits.max_sessions} conversations at once; one line per connection "
                  "and per answer follows[/dim]")
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
