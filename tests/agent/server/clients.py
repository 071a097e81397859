"""Clients and servers for the server's tests: a live server on a free port, WebSocket and raw-socket clients,
and the frames and JPEGs hostile clients send."""
import asyncio
import contextlib
import json
import socket
import time

import cv2
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed

from agent.server import protocol
from agent.server.app import CompanionServer


@contextlib.asynccontextmanager
async def serving(models, config=None, **kw):
    """A live server on a free port: yields (CompanionServer, websockets Server, port)."""
    server = CompanionServer(config or models.config, models, **kw)
    ws_server = await server.start("127.0.0.1", 0)
    try:
        yield server, ws_server, ws_server.sockets[0].getsockname()[1]
    finally:
        ws_server.close()
        await ws_server.wait_closed()


@contextlib.asynccontextmanager
async def running(models, **kw):
    async with serving(models, **kw) as (_, _, port):
        yield port


def audio_frame(pcm):
    return b"\x01" + pcm.astype("<i2").tobytes()


async def stream_realtime(ws, pcm, frame=512):
    t0 = time.perf_counter()
    for i in range(0, len(pcm) - frame + 1, frame):
        await ws.send(audio_frame(pcm[i: i + frame]))
        await asyncio.sleep(max(0.0, t0 + (i + frame) / 16000 - time.perf_counter()))


async def expect(ws, kind, timeout=5.0):
    """The next JSON message of type ``kind`` (session events in between are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
        if isinstance(message, str):
            data = json.loads(message)
            if data["type"] == kind:
                return data


async def each_gets_its_error(ws, cases):
    """Each bad message is answered by an error of its code, in one short line (never an echo of the input)."""
    for message, code in cases:
        await ws.send(message)
        error = await expect(ws, "error")
        assert error["code"] == code, (message[:30], error)
        assert 0 < len(error["message"]) < 300 and "\n" not in error["message"]


async def closed_with(ws, timeout=10.0):
    with pytest.raises(ConnectionClosed) as info:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    return info.value.rcvd


async def http_get(port, raw_path, host=None):
    """A raw request, so the path reaches the server exactly as written (no client-side normalisation)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {raw_path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n\r\n".encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    length = int(next(line.split(":")[1] for line in head.split("\r\n") if line.lower().startswith("content-length")))
    body = await reader.readexactly(length)
    writer.close()
    return int(head.split()[1]), head, body


class RawClient:
    """A WebSocket client on a plain blocking socket: it sends any frame, and reads only when the test says so.

    Its methods block, so a test running the server on its own loop calls them through ``asyncio.to_thread``.
    """

    def __init__(self, port, *, host=None, origin=None, rcvbuf=None, path="/ws"):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""
        extra = f"Origin: {origin}\r\n" if origin else ""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n{extra}Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        self.status = int(head.split()[1])

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("server closed the TCP connection")
        self.buffer += data

    def _exact(self, n):
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def frame(self):
        """The next server frame as (opcode, payload)."""
        b0, b1 = self._exact(2)
        n = b1 & 0x7F
        if n >= 126:
            n = int.from_bytes(self._exact(2 if n == 126 else 8), "big")
        return b0 & 0x0F, self._exact(n)

    def close_frame(self):
        """Read until the close frame: (code, reason)."""
        while True:
            opcode, payload = self.frame()
            if opcode == 0x8:
                return int.from_bytes(payload[:2], "big"), payload[2:].decode()

    def close(self):
        self.sock.close()


def client_frame(payload: bytes, opcode=0x1, *, fin=True, masked=True) -> bytes:
    """One client frame; an all-zero mask leaves the payload as is."""
    n = len(payload)
    size = bytes([n]) if n < 126 else bytes([126]) + n.to_bytes(2, "big") if n < 65536 \
        else bytes([127]) + n.to_bytes(8, "big")
    head = bytes([(0x80 if fin else 0) | opcode, (0x80 if masked else 0) | size[0]]) + size[1:]
    return head + (bytes(4) if masked else b"") + payload


def ping_frames(n):
    """``n`` pings whose pongs (about 120 bytes each) pile up downstream of a client that does not read."""
    return client_frame(json.dumps({"type": "ping", "id": "x" * protocol.MAX_ID_CHARS}).encode()) * n


def tiny_jpeg(width=8, height=8, progressive=False):
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8),
                            [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
    return data.tobytes()


def claiming(jpeg: bytes, width: int, height: int) -> bytes:
    """The same bytes with the frame header (SOF0 or SOF2) patched to claim another size."""
    data = bytearray(jpeg)
    at = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc2"))
    data[at + 5:at + 7] = height.to_bytes(2, "big")
    data[at + 7:at + 9] = width.to_bytes(2, "big")
    return bytes(data)
