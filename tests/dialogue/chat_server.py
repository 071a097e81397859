"""A real HTTP server speaking OpenAI chat-completions SSE with scripted replies, for the brain backend tests."""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """What the server does for one request.

    ``chunks`` are streamed as content deltas every ``interval_s``; ``lines``
    replaces them with raw SSE lines (to send malformed data); ``hang_s``
    delays everything, headers included (a server that never answers);
    ``stall_s`` keeps the connection open and silent that long after the
    lines, before ``[DONE]`` (a stream that stalls); ``body`` is sent as is,
    with ``content_type``, instead of any stream (an HTML page, a plain JSON reply).
    """
    status: int = 200
    chunks: tuple[str, ...] = ()
    interval_s: float = 0.02
    lines: tuple[str, ...] | None = None
    error: str = ""
    hang_s: float = 0.0
    stall_s: float = 0.0
    body: str | None = None
    content_type: str = "text/event-stream"


@dataclass
class Seen:
    """One request as the server received it, and when it streamed each chunk."""
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    chunk_times: list[float] = field(default_factory=list)
    done_time: float | None = None


class ChatServer:
    """Serves ``replies`` in order (the last one repeats) on 127.0.0.1 at ``port`` (0: a free one), in a thread."""

    def __init__(self, *replies: Reply, port: int = 0) -> None:
        if not replies:
            raise ValueError("ChatServer needs at least one Reply")
        self.replies = list(replies)
        self.seen: list[Seen] = []
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                body = json.dumps({"data": [{"id": "tiny"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw))
                server.seen.append(seen)
                reply = server.replies[min(len(server.seen), len(server.replies)) - 1]
                if reply.hang_s and server._closing.wait(reply.hang_s):
                    return
                if reply.status != 200:
                    body = json.dumps({"error": {"message": reply.error, "code": reply.status}}).encode()
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Connection", "close")
                self.end_headers()
                if reply.body is not None:
                    self.wfile.write(reply.body.encode())
                    seen.done_time = time.perf_counter()
                    return
                content = tuple(
                    "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": c}}]}) for c in reply.chunks)
                done = () if reply.stall_s else ("data: [DONE]",)  # a stalled stream sends [DONE] only after the stall
                lines = reply.lines if reply.lines is not None else content + done
                try:
                    for line in lines:
                        if server._closing.wait(reply.interval_s):
                            return
                        self.wfile.write((line + "\n\n").encode())
                        self.wfile.flush()
                        seen.chunk_times.append(time.perf_counter())
                    if reply.stall_s:
                        if server._closing.wait(reply.stall_s):
                            return
                        self.wfile.write(b"data: [DONE]\n\n")
                    seen.done_time = time.perf_counter()
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client stopped reading: that is its right

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> "ChatServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
