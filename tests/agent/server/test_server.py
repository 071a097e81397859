"""`humansense serve`: the page's assets only, a guarded handshake, protocol 1, and real conversations over a socket."""
import asyncio
import contextlib
import gc
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import psutil
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

import agent.server.app
from agent.server import protocol
from agent.config import ConfigError, ServerSettings, load_config
from agent.runtime.events import EventKind
from agent.server.jpegsize import jpeg_size
from agent.runtime.lanes import Models
from agent.server.app import CompanionServer, ServerLimits, host_allowed
from agent.conversation.session import Session
from agent.demo.synth import Line, render_audio

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models():
    loaded = Models.load(load_config(None, ["output.terminal=false"]))
    yield loaded
    asyncio.run(loaded.aclose())


@pytest.fixture(scope="module")
def utterance():
    pcm, truth = render_audio([Line("Hello, I had a really rough day at work today.", pause_after_s=2.5)], lead_s=0.5)
    return pcm, truth


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


def test_serves_the_page_assets_and_nothing_else(models):
    async def scenario():
        async with running(models) as port:
            status, head, body = await http_get(port, "/")
            assert status == 200 and "text/html" in head and b"app.js" in body
            assert "Content-Security-Policy" in head and "nosniff" in head
            for path, ctype in [("/app.js", "javascript"), ("/worklet.js", "javascript"), ("/style.css", "text/css")]:
                status, head, body = await http_get(port, path)
                assert status == 200 and ctype in head and body
            for evil in ["/../server.py", "/..%2fserver.py", "/%2e%2e/agent/server.py", "/web/app.js",
                         "//etc/passwd", "/app.js/../../server.py", "/index.html%00", "/protocol.py", "/.env"]:
                status, _, body = await http_get(port, evil)
                assert status == 404, evil
                assert b"import" not in body
    asyncio.run(scenario())


def test_hello_names_the_protocol_version_first(models):
    async def scenario():
        async with running(models) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
                assert hello["type"] == "hello" and hello["protocol"] == 1
                assert hello["sample_rate"] == 16000 and hello["voice"] == "heart"
                assert hello["limits"]["audio_frame_bytes"] == [640, 1280]
    asyncio.run(scenario())


def test_spoken_turn_is_transcribed_and_answered_and_stop_cuts_the_answer(models, utterance):
    pcm, truth = utterance

    async def scenario():
        async with running(models) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await expect(ws, "hello", 30)
                sender = asyncio.create_task(stream_realtime(ws, np.concatenate([pcm, np.zeros(16000 * 8, np.int16)])))
                final, header, audio = None, None, None
                async with asyncio.timeout(30):
                    while audio is None:
                        message = await ws.recv()
                        if isinstance(message, bytes):
                            audio = message
                            continue
                        data = json.loads(message)
                        if data["type"] == "transcript" and data["final"]:
                            final = data
                        elif data["type"] == "agent_audio":
                            header = data
                assert final is not None and "rough day" in final["text"].lower()
                assert audio[0] == 0x01 and header["samples"] == (len(audio) - 1) // 2
                samples = np.frombuffer(audio[1:], "<i2").astype(float)
                assert np.sqrt(np.mean(samples ** 2)) > 300  # a voice, not silence
                await asyncio.sleep(0.3)  # the button is pressed while the answer is heard
                await ws.send(json.dumps({"type": "stop"}))
                barge = await expect(ws, "barge_in", 5)
                assert barge["reason"] == "client"
                ended = await expect(ws, "agent_speech_ended", 5)
                assert ended["interrupted"] is True
                turn = await expect(ws, "turn", 5)
                assert turn["interrupted"] is True and turn["latency_ms"]["voice_to_voice"] is not None
                with pytest.raises(asyncio.TimeoutError):  # nothing more of that answer arrives
                    async with asyncio.timeout(1.0):
                        while True:
                            assert not isinstance(await ws.recv(), bytes)
                sender.cancel()
    asyncio.run(scenario())


def test_bad_messages_get_an_error_and_the_session_goes_on(models):
    ok, jpeg = cv2.imencode(".jpg", np.full((120, 160, 3), 128, np.uint8))
    cases = [
        ("{not json", "bad_json"),
        (json.dumps([1, 2]), "bad_message"),
        (json.dumps({"type": "dance"}), "unknown_type"),
        (json.dumps({"type": "settings", "voice": "alloy"}), "bad_settings"),
        (json.dumps({"type": "settings", "speed": 5}), "bad_settings"),
        (json.dumps({"type": "settings", "speed": "fast"}), "bad_settings"),
        (b"", "empty_frame"),
        (b"\x07abc", "unknown_kind"),
        (b"\x01" + bytes(100), "bad_audio_frame"),
        (b"\x01" + bytes(2000), "bad_audio_frame"),
        (b"\x01" + bytes(641), "bad_audio_frame"),
        (b"\x02" + b"\xff\xd8 definitely not a jpeg", "bad_jpeg"),
        (b"\x02", "bad_jpeg"),
    ]

    async def scenario():
        async with running(models) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await expect(ws, "hello", 30)
                await each_gets_its_error(ws, cases)
                await ws.send(b"\x02" + jpeg.tobytes())
                await ws.send(audio_frame(np.zeros(640, np.int16)))
                await ws.send(json.dumps({"type": "settings", "speed": 1.25, "voice": "heart"}))
                assert (await expect(ws, "settings"))["speed"] == 1.25
                await ws.send(json.dumps({"type": "ping", "id": 7}))
                assert (await expect(ws, "pong"))["id"] == 7
    asyncio.run(scenario())


def test_oversized_message_closes_with_1009(models):
    async def scenario():
        async with running(models) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
                await expect(ws, "hello", 30)
                await ws.send(b"\x02" + bytes(300 * 1024))
                assert (await closed_with(ws)).code == 1009
    asyncio.run(scenario())


def test_flooding_and_faster_than_real_time_clients_are_closed_with_1008_others_go_on(models):
    async def scenario():
        async with running(models, limits=ServerLimits(max_sessions=3)) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as flood, \
                    connect(f"ws://127.0.0.1:{port}/ws") as rush, \
                    connect(f"ws://127.0.0.1:{port}/ws") as good:
                for ws in (flood, rush, good):
                    await expect(ws, "hello", 30)
                keep_alive = asyncio.create_task(stream_realtime(good, np.zeros(16000 * 3, np.int16)))
                with contextlib.suppress(ConnectionClosed):
                    for _ in range(100):  # 3.2 s of audio at once
                        await rush.send(audio_frame(np.zeros(512, np.int16)))
                with contextlib.suppress(ConnectionClosed):
                    for _ in range(600):
                        await flood.send('{"type":"ping"}')
                rcvd = await closed_with(rush)
                assert rcvd.code == 1008 and "real time" in rcvd.reason
                rcvd = await closed_with(flood)
                assert rcvd.code == 1008 and "rate limit" in rcvd.reason
                await good.send(json.dumps({"type": "ping", "id": "still here"}))
                assert (await expect(good, "pong"))["id"] == "still here"
                await keep_alive
    asyncio.run(scenario())


def test_a_client_that_never_sends_is_closed_with_1008(models):
    async def scenario():
        async with running(models, limits=ServerLimits(idle_timeout_s=0.5)) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as idle:
                await expect(idle, "hello", 30)
                rcvd = await closed_with(idle, timeout=5)
                assert rcvd.code == 1008 and "idle" in rcvd.reason
    asyncio.run(scenario())


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


FLOOD_OK = dict(messages_per_s=1e6, burst=10 ** 6)  # these tests are about the downstream, not the rate limit


def test_a_reader_that_falls_behind_gets_close_1008_when_it_reads_again_and_others_go_on(models, caplog):
    async def scenario():
        async with running(models, limits=ServerLimits(send_buffer_bytes=64 * 1024, **FLOOD_OK)) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as other:
                await expect(other, "hello", 30)
                slow = await asyncio.to_thread(RawClient, port, rcvbuf=4096)
                async with asyncio.timeout(30):
                    while "too slow a reader" not in caplog.text:
                        await asyncio.to_thread(slow.sock.sendall, ping_frames(500))
                        await other.send(json.dumps({"type": "ping", "id": "ok"}))
                        assert (await expect(other, "pong"))["id"] == "ok"
                code, reason = await asyncio.to_thread(slow.close_frame)  # its backlog, then the close frame
                slow.close()
                assert code == 1008 and reason.startswith("too slow a reader")
                await other.send(json.dumps({"type": "ping", "id": "still here"}))
                assert (await expect(other, "pong"))["id"] == "still here"
    asyncio.run(scenario())


def test_a_reader_that_never_reads_again_is_cut_within_the_close_wait(models, caplog):
    async def scenario():
        limits = ServerLimits(send_buffer_bytes=64 * 1024, close_wait_s=1.0, **FLOOD_OK)
        async with running(models, limits=limits) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as other:
                await expect(other, "hello", 30)
                stalled = await asyncio.to_thread(RawClient, port, rcvbuf=4096)
                decided = None
                with pytest.raises(ConnectionError):  # reset by the server
                    async with asyncio.timeout(30):
                        while True:
                            await asyncio.to_thread(stalled.sock.sendall, ping_frames(500))
                            if decided is None and "too slow a reader" in caplog.text:
                                decided = time.monotonic()
                                await asyncio.sleep(0.05)
                            await other.send(json.dumps({"type": "ping", "id": "ok"}))
                            assert (await expect(other, "pong"))["id"] == "ok"
                assert decided is not None and time.monotonic() - decided < 4  # close_wait_s, loosely
                stalled.close()
                await other.send(json.dumps({"type": "ping", "id": "still here"}))
                assert (await expect(other, "pong"))["id"] == "still here"
    asyncio.run(scenario())


def test_token_and_origin_are_checked_at_the_handshake(models):
    async def scenario():
        async with running(models, token="s3cret", require_token=True) as port:
            base = f"ws://127.0.0.1:{port}/ws"
            with pytest.raises(InvalidStatus) as info:
                async with connect(base):
                    pass
            assert info.value.response.status_code == 401
            with pytest.raises(InvalidStatus) as info:
                async with connect(base + "?token=wrong"):
                    pass
            assert info.value.response.status_code == 403
            with pytest.raises(InvalidStatus) as info:
                async with connect(base + "?token=s3cret", origin="http://evil.example"):
                    pass
            assert info.value.response.status_code == 403
            async with connect(base + "?token=s3cret", origin=f"http://127.0.0.1:{port}") as ws:
                assert (await expect(ws, "hello", 30))["protocol"] == 1
            async with connect(base, subprotocols=["humansense.token.s3cret"]) as ws:
                assert ws.subprotocol == "humansense.token.s3cret"
                assert (await expect(ws, "hello", 30))["protocol"] == 1
    asyncio.run(scenario())


def test_concurrent_sessions_are_all_answered(models, utterance):
    pcm, _ = utterance
    clip = np.concatenate([pcm, np.zeros(16000 * 6, np.int16)])

    async def one(port):
        async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
            await expect(ws, "hello", 60)
            sender = asyncio.create_task(stream_realtime(ws, clip))
            got_text = got_audio = False
            async with asyncio.timeout(45):
                while not (got_text and got_audio):
                    message = await ws.recv()
                    if isinstance(message, bytes):
                        got_audio = True
                    elif json.loads(message)["type"] == "transcript":
                        got_text = True
            sender.cancel()
            return got_text and got_audio

    async def scenario():
        async with running(models, limits=ServerLimits(max_sessions=4)) as port:
            return await asyncio.gather(*(one(port) for _ in range(4)))
    assert asyncio.run(scenario()) == [True] * 4


# ---- hostile JSON ----------------------------------------------------------------------------------------------------
def test_deep_json_and_huge_numbers_get_bad_json_and_the_connection_stays_open(models):
    cases = [
        ("[" * 10_000, "bad_json"),
        ("[" * 8_000 + "]" * 8_000, "bad_json"),
        ('{"type":"ping","id":' + "[" * 16_000, "bad_json"),
        ('{"type":"ping","id":' + "[" * 200_000, "bad_message"),  # over the length of any control message
        ('{"type":"ping","id":' + "1" * 5_000 + "}", "bad_json"),
        ('{"type":"settings","speed":' + "9" * 5_000 + "}", "bad_json"),
        ('{"type":"ping","id":NaN}', "bad_json"),
        (json.dumps({"type": "ping", "id": 10 ** 20}), "bad_message"),
        (json.dumps({"type": "ping", "id": [1, 2]}), "bad_message"),
        (json.dumps({"type": "ping", "id": {"a": 1}}), "bad_message"),
        (json.dumps({"type": "ping", "id": True}), "bad_message"),
        (json.dumps({"type": "ping", "id": "x" * 65}), "bad_message"),
        (json.dumps({"type": "ping", "id": "x" * 100_000}), "bad_message"),
        (json.dumps({"type": "x" * 10_000}), "unknown_type"),
        (json.dumps({"type": "settings", "voice": "v" * 10_000}), "bad_settings"),
        (json.dumps({"type": "settings", "voice": [[[]]]}), "bad_settings"),
    ]

    async def scenario():
        async with running(models) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await expect(ws, "hello", 30)
                await each_gets_its_error(ws, cases)
                for ping_id in ["[" * 40 + "{" * 20, 2 ** 53, -1.5, None, "é" * 64]:  # brackets in a string are text
                    await ws.send(json.dumps({"type": "ping", "id": ping_id}))
                    assert (await expect(ws, "pong"))["id"] == ping_id
    asyncio.run(scenario())


# ---- decompression bombs ---------------------------------------------------------------------------------------------
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


def test_jpeg_size_is_read_from_the_frame_header():
    assert jpeg_size(tiny_jpeg(160, 120)) == (160, 120)
    assert jpeg_size(tiny_jpeg(33, 7, progressive=True)) == (33, 7)
    assert jpeg_size(claiming(tiny_jpeg(), 30000, 30000)) == (30000, 30000)
    for bad, why in [(b"", "not a JPEG"), (b"\x89PNG\r\n\x1a\n", "not a JPEG"), (b"\xff\xd8\xff\xda\x00", "no frame"),
                     (b"\xff\xd8" + b"\xff\xfe\x00\x02" * 5000, "segments"), (b"\xff\xd8\xff\xc0\x00", "ends inside"),
                     (claiming(tiny_jpeg(), 0, 8), "0x8")]:
        with pytest.raises(ValueError, match=why):
            jpeg_size(bad)


def test_a_decompression_bomb_is_refused_from_its_header_and_the_connection_stays_open(models):
    bomb = claiming(tiny_jpeg(), 30000, 30000)
    _, png = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))

    async def scenario():
        async with running(models, limits=ServerLimits(max_image_side=200, max_image_pixels=20_000)) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await expect(ws, "hello", 30)
                rss = psutil.Process().memory_info().rss
                for frame, why in [(bomb, "camera frame is 30000x30000; the limit is 200 pixels a side"),
                                   (tiny_jpeg(300, 50), "camera frame is 300x50"),
                                   (tiny_jpeg(150, 150), "and 20000 pixels in all"),
                                   (png.tobytes(), "not a JPEG")]:
                    await ws.send(b"\x02" + frame)
                    error = await expect(ws, "error", timeout=2)  # decoding the bomb took 11 s
                    assert error["code"] == "bad_jpeg" and why in error["message"], error
                assert psutil.Process().memory_info().rss - rss < 200e6  # decoding it took 2.6 GB
                await ws.send(b"\x02" + tiny_jpeg(160, 120))
                await ws.send(json.dumps({"type": "ping", "id": "after"}))
                assert (await expect(ws, "pong"))["id"] == "after"
    asyncio.run(scenario())


# ---- the Host allowlist ----------------------------------------------------------------------------------------------
async def handshake_status(port, host, origin=None, path="/ws"):
    client = await asyncio.to_thread(RawClient, port, host=host, origin=origin, path=path)
    client.close()
    return client.status


def test_a_rebound_dns_name_is_refused_on_every_path(models):
    async def scenario():
        async with running(models) as port:
            evil = f"evil.example:{port}"
            for path in ["/", "/app.js", "/style.css"]:
                status, _, body = await http_get(port, path, host=evil)
                assert status == 403 and body == b"Host not allowed\n", path
            assert await handshake_status(port, evil, origin=f"http://{evil}") == 403
            assert await handshake_status(port, evil) == 403
            assert await handshake_status(port, f"127.0.0.1.evil.example:{port}") == 403
            for host in [f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST.:{port}", f"[::1]:{port}", "localhost",
                         "localhost:9000"]:  # any port: an SSH tunnel moves it
                assert await handshake_status(port, host, origin=f"http://{host}") == 101, host
                status, _, _ = await http_get(port, "/", host=host)
                assert status == 200, host
    asyncio.run(scenario())


def test_allowed_hosts_come_from_the_config(models):
    config = load_config(None, ["output.terminal=false", "server.allowed_hosts=['companion.example.com']"])

    async def scenario():
        async with running(models, config=config) as port:
            status, _, _ = await http_get(port, "/", host="Companion.Example.com")
            assert status == 200
            host = f"companion.example.com:{port}"
            assert await handshake_status(port, host, origin=f"http://{host}") == 101
            status, _, _ = await http_get(port, "/", host="other.example.com")
            assert status == 403
    asyncio.run(scenario())


def test_a_host_is_allowed_by_name_or_by_the_address_the_client_reached():
    lan = ("192.168.1.5", 8765)  # a non-loopback bind, as `serve --host 192.168.1.5` (which requires a token)
    assert host_allowed("192.168.1.5:8765", lan, frozenset())
    assert not host_allowed("localhost:8765", lan, frozenset())
    assert not host_allowed("evil.example:8765", lan, frozenset())
    assert host_allowed("box.lan:8765", lan, frozenset({"box.lan"}))
    assert host_allowed("localhost:8765", ("::ffff:127.0.0.1", 8765), frozenset())  # a dual-stack socket
    for malformed in [None, "", ":8765", "localhost:http", "::1", "[::1", "localhost:80:80"]:
        assert not host_allowed(malformed, ("127.0.0.1", 8765), frozenset()), malformed
    with pytest.raises(ConfigError, match=r"server: allowed_hosts: 'http://x.example' is not a host name"):
        load_config(None, ["server.allowed_hosts=['http://x.example']"])


# ---- close codes -----------------------------------------------------------------------------------------------------
def test_the_protocol_documents_exactly_the_close_codes_the_server_sends():
    documented = {int(code) for code in re.findall(r"^  (\d{4})  ", protocol.__doc__, re.M)}
    ours = {int(code) for code in re.findall(r"(?:_Close\(|_close_within\(ws, )(\d{4})",
                                             Path(agent.server.app.__file__).read_text())}
    by_websockets = {1001, 1002, 1007, 1009}  # shutdown, a broken frame, text that is not UTF-8, too big
    assert ours == {1008, 1011, 1013}
    assert documented == ours | by_websockets


def test_the_protocol_documents_exactly_the_error_codes_the_server_sends():
    listed = re.search(r"CODE is\s+one of ((?:\w+,\s+)*\w+)", protocol.__doc__).group(1)
    documented = {code.strip() for code in listed.split(",")}
    sources = Path(protocol.__file__).read_text() + Path(agent.server.app.__file__).read_text()
    assert documented == set(re.findall(r'ProtocolError\("(\w+)"', sources))


@pytest.mark.parametrize("frame, code", [
    (client_frame(b"x", opcode=0x3), 1002),                 # a reserved opcode
    (client_frame(b"{}", masked=False), 1002),              # a client frame must be masked
    (client_frame(b'{"type":"\xff"}'), 1007),                # text that is not UTF-8
], ids=["opcode", "unmasked", "utf8"])
def test_a_frame_that_breaks_the_websocket_rules_is_closed_with_its_code(models, frame, code):
    async def scenario():
        async with running(models) as port:
            client = await asyncio.to_thread(RawClient, port)
            await asyncio.to_thread(client.sock.sendall, frame)
            assert (await asyncio.to_thread(client.close_frame))[0] == code
            client.close()
    asyncio.run(scenario())


def test_shutdown_closes_open_conversations_with_1001(models):
    async def scenario():
        async with serving(models) as (_, ws_server, port):
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await expect(ws, "hello", 30)
                ws_server.close()
                assert (await closed_with(ws)).code == 1001
    asyncio.run(scenario())


def test_with_the_models_frozen_each_finished_conversation_is_collected_at_its_end(models, utterance):
    """`serve` freezes the loaded models out of the collector's sight; a finished session lives in reference
    cycles, so each connection's end collects it rather than leaving dozens to pile up (the soak's growth)."""
    pcm, _ = utterance

    async def scenario():
        async with serving(models) as (server, _, port):
            for _ in range(3):
                async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                    await expect(ws, "hello", 30)
                    await ws.send(audio_frame(pcm[:16000]))
            while server.connections:
                await asyncio.sleep(0.01)

    gc.collect()
    gc.freeze()
    gc.disable()  # only the server's own collection may free them
    try:
        asyncio.run(scenario())
        assert not [o for o in gc.get_objects() if type(o) is Session]
    finally:
        gc.enable()
        gc.unfreeze()


# ---- capacity --------------------------------------------------------------------------------------------------------
def test_a_client_over_capacity_is_told_busy_and_closed_with_1013(models):
    config = load_config(None, ["output.terminal=false", "server.max_sessions=1"])

    async def scenario():
        async with running(models, config=config) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as first:
                await expect(first, "hello", 30)
                async with connect(f"ws://127.0.0.1:{port}/ws") as second:
                    busy = json.loads(await asyncio.wait_for(second.recv(), 5))
                    assert busy["type"] == "busy" and busy["message"]
                    assert busy["sessions"] == 1 and busy["capacity"] == 1 and busy["retry_after_s"] > 0
                    rcvd = await closed_with(second)
                    assert rcvd.code == 1013 and "busy" in rcvd.reason
                await first.send(json.dumps({"type": "ping", "id": "first"}))
                assert (await expect(first, "pong"))["id"] == "first"
            async with asyncio.timeout(15):  # the first session winds down, then the seat is free
                while True:
                    async with connect(f"ws://127.0.0.1:{port}/ws") as third:
                        if json.loads(await third.recv())["type"] == "hello":
                            break
                    await asyncio.sleep(0.2)
    asyncio.run(scenario())


# ---- a session that fails --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("outcome, reason", [
    (RuntimeError("vad lane died"), "RuntimeError: vad lane died"),
    (SimpleNamespace(failure="asr lane hung for 5 s"), "asr lane hung for 5 s"),
    (SimpleNamespace(failure=None), None),
], ids=["raises", "returns-failure", "returns"])
def test_a_session_that_ends_closes_its_connection_with_1011_even_while_the_client_talks(models, monkeypatch, outcome,
                                                                                        reason):
    class EndingSession(Session):
        async def run(self):
            self.publish(EventKind.SESSION_STARTED, {"brain": "test"})
            await asyncio.sleep(0.5)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
    monkeypatch.setattr(agent.server.app, "Session", EndingSession)

    async def chatter(ws):
        with contextlib.suppress(ConnectionClosed):
            while True:  # a client that keeps sending kept a dead session's socket open
                await ws.send(json.dumps({"type": "ping"}))
                await asyncio.sleep(0.05)

    async def scenario():
        async with running(models) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await expect(ws, "hello", 30)
                talking = asyncio.create_task(chatter(ws))
                failed = None
                with pytest.raises(ConnectionClosed) as info:
                    async with asyncio.timeout(5):
                        while True:
                            message = json.loads(await ws.recv())
                            if message["type"] == "session_failed":
                                failed = message
                await talking
                assert info.value.rcvd.code == 1011
                if reason is None:
                    assert failed is None and info.value.rcvd.reason == "session ended"
                else:
                    assert failed == {"type": "session_failed", "reason": reason}
                    assert info.value.rcvd.reason == f"session failed: {reason}"
    asyncio.run(scenario())


def test_a_session_that_fails_to_start_says_why_and_closes_with_1011(models, monkeypatch):
    class BrokenSession(Session):
        async def run(self):
            raise OSError("no audio lane")
    monkeypatch.setattr(agent.server.app, "Session", BrokenSession)

    async def scenario():
        async with running(models) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                failed = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert failed == {"type": "session_failed", "reason": "OSError: no audio lane"}
                assert (await closed_with(ws, timeout=5)).code == 1011
    asyncio.run(scenario())


# ---- settings --------------------------------------------------------------------------------------------------------
def test_the_limits_an_operator_sets_come_from_the_server_section():
    settings = load_config(None, ["server.max_sessions=7", "server.idle_timeout_s=5", "server.max_image_side=640",
                                  "server.max_image_pixels=300000", "server.max_message_bytes=65536",
                                  "server.allowed_hosts=['a.example']"]).server
    limits = ServerLimits.from_settings(settings)
    assert (limits.max_sessions, limits.idle_timeout_s, limits.max_image_side, limits.max_image_pixels,
            limits.max_message_bytes, limits.allowed_hosts) == (7, 5.0, 640, 300000, 65536, ("a.example",))
    assert ServerLimits.from_settings(ServerSettings()) == ServerLimits()  # one set of defaults
    with pytest.raises(ConfigError, match="server.max_sessions: 0 is below the minimum 1"):
        load_config(None, ["server.max_sessions=0"])


def test_the_server_applies_its_config_section(models):
    config = load_config(None, ["output.terminal=false", "server.idle_timeout_s=1.0", "server.max_message_bytes=65536"])

    async def scenario():
        async with running(models, config=config) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
                limits = (await expect(ws, "hello", 30))["limits"]
                assert limits["max_message_bytes"] == 65536 and limits["idle_timeout_s"] == 1.0
                assert (limits["max_image_side"], limits["max_image_pixels"]) == (1920, 4_000_000)
                rcvd = await closed_with(ws, timeout=5)
                assert rcvd.code == 1008 and "idle" in rcvd.reason
    asyncio.run(scenario())


# ---- signals, in a real process --------------------------------------------------------------------------------------
@pytest.mark.parametrize("sig, codes", [(signal.SIGTERM, (0, 143)), (signal.SIGINT, (0, 130))], ids=["TERM", "INT"])
def test_serve_stops_on_a_signal_after_hostile_messages_and_closes_with_1001(sig, codes):
    # 0 today; 143/130 once stop_on_signals reports the signal (agent/signals.py)
    command = [sys.executable, "-m", "agent.cli", "serve", "--port", "0", "--set", "output.terminal=false"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    try:
        port = None
        for line in proc.stdout:
            if found := re.search(r"http://127\.0\.0\.1:(\d+)/", line):
                port = int(found.group(1))
                break
        assert port, "serve printed no URL"

        async def scenario():
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await expect(ws, "hello", 60)
                for message in ["[" * 10_000, '{"type":"ping","id":' + "1" * 5_000 + "}",
                                b"\x02" + claiming(tiny_jpeg(), 30000, 30000)]:
                    await ws.send(message)
                    assert (await expect(ws, "error", timeout=3))["code"] in ("bad_json", "bad_jpeg")
                await ws.send(json.dumps({"type": "ping", "id": 1}))
                await expect(ws, "pong")
                proc.send_signal(sig)
                assert (await closed_with(ws)).code == 1001
        asyncio.run(scenario())
        assert proc.wait(timeout=15) in codes
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
