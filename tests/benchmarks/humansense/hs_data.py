"""Builders of the mini HumanSense dataset: real media (H.264 + AAC speech, wav, mp3) and items in the published layout."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

SPEECH = "I am so tired of this, nothing went right today."


def write_video(path: Path, frames: int, fps: int, size: tuple[int, int], speech: np.ndarray | None,
                gop: int = 12, index_marks: bool = False) -> None:
    """An H.264 clip of the (downscaled) astronaut drifting; ``index_marks`` paints frame i's gray level as 8*i % 256."""
    from skimage import data

    w, h = size
    base = cv2.resize(data.astronaut(), (w * 2, h * 2))
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.gop_size = gop
        vs.options = {"bframes": "2", "preset": "ultrafast" if not index_marks else "medium"}
        aus = c.add_stream("aac", rate=16000) if speech is not None else None
        for i in range(frames):
            if index_marks:
                img = np.full((h, w, 3), (8 * i) % 256, dtype=np.uint8)
            else:
                x, y = (i * 3) % w, (i * 2) % h
                img = np.ascontiguousarray(base[y:y + h, x:x + w])
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        if aus is not None and speech is not None:
            wave = speech.astype(np.float32) / 32768.0
            for k in range(0, len(wave), 1024):
                f = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave[None, k:k + 1024]), format="fltp", layout="mono")
                f.sample_rate, f.pts = 16000, k
                for p in aus.encode(f):
                    c.mux(p)
            for p in aus.encode():
                c.mux(p)


def write_audio(path: Path, speech: np.ndarray, codec: str) -> None:
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=16000 if codec == "pcm_s16le" else 22050)
        s.layout = "mono"
        fmt = "s16" if codec == "pcm_s16le" else "fltp"
        pcm = speech if codec == "pcm_s16le" else speech.astype(np.float32) / 32768.0
        if codec != "pcm_s16le":
            from floor import resample
            pcm = resample(pcm, 16000, 22050).astype(np.float32)
        step = 1152
        for k in range(0, len(pcm), step):
            f = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[None, k:k + step]), format=fmt, layout="mono")
            f.sample_rate, f.pts = s.rate, k
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def item(path: str, task: str, pattern: str, answer: str, options: list[str] | None = None, *,
         question: str = "What does the person feel", video: bool = True, **extra: Any) -> dict[str, Any]:
    q: dict[str, Any] = {"question": question, "task_type": task, "question_pattern": pattern, "answer": answer}
    if options is not None:
        q["options"] = options
    if video:
        q["full_frame_number"], q["fps"] = 36, 12
    q.update(extra)
    return {"video_path": path, "questions": q}


SINGLE = "Multiple-choice question (select one answer choice)"
MULTI = "Multiple-choice question (select one or more answer choices)"
NUMERIC = "Question and answer (Arabic numerals)"
YES_NO = "Judgment question (Yes or No)"
OPTS4 = ["A. happy", "B. sad", "C. angry", "D. calm"]


@dataclass(frozen=True)
class MiniData:
    root: Path
    vqa: Path
    aqa: Path
    vqa_items: list[dict[str, Any]]
    speech: np.ndarray

    def valid_vqa(self) -> list[int]:
        return [0, 1, 2, 3, 4, 5, 6, 11, 12]


class ChatServer:
    """A real HTTP server speaking OpenAI chat-completions SSE on 127.0.0.1; it answers "B" after ``delay_s``.

    Every request body is kept in ``bodies`` (thread-safe append), and the most
    requests in flight at once in ``peak``.
    """

    def __init__(self, delay_s: float = 0.0, reply: str = "B") -> None:
        import json
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.bodies: list[dict[str, Any]] = []
        self.peak = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with server._lock:
                    server.bodies.append(body)
                    server._in_flight += 1
                    server.peak = max(server.peak, server._in_flight)
                try:
                    time.sleep(delay_s)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for piece in (reply[:1], reply[1:]):
                        if piece:
                            chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
                finally:
                    with server._lock:
                        server._in_flight -= 1

        class Server(ThreadingHTTPServer):
            request_queue_size = 128   # the default backlog of 5 resets bursts of concurrent connections

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> "ChatServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def parts_of(body: dict[str, Any]) -> tuple[str, int, bool]:
    """(user text, number of images, whether audio was sent) of one chat-completions request."""
    content = body["messages"][-1]["content"]
    text = next(p["text"] for p in content if p["type"] == "text")
    images = sum(p["type"] == "image_url" for p in content)
    audio = any(p["type"] == "input_audio" for p in content)
    return text, images, audio
