"""`humansense serve`: the page's assets only, a guarded handshake, protocol 1, and real conversations over a socket."""
import asyncio
import contextlib
import json
import socket
import time

import cv2
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agent.config import load_config
from agent.models import Models
from agent.server import CompanionServer, ServerLimits
from agent.synth import Line, render_audio

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
async def running(models, **kw):
    server = CompanionServer(models.config, models, **kw)
    ws_server = await server.start("127.0.0.1", 0)
    port = ws_server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        ws_server.close()
        await ws_server.wait_closed()


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


async def closed_with(ws, timeout=10.0):
    with pytest.raises(ConnectionClosed) as info:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    return info.value.rcvd


async def http_get(port, raw_path):
    """A raw request, so the path reaches the server exactly as written (no client-side normalisation)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {raw_path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
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
                for message, code in cases:
                    await ws.send(message)
                    error = await expect(ws, "error")
                    assert error["code"] == code, (message[:20], error)
                    assert error["message"]
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
        async with running(models) as port:
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


def raw_client(port):
    """A WebSocket client on a plain socket with a tiny receive buffer that never reads after the handshake."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    assert sock.recv(4096).startswith(b"HTTP/1.1 101")
    return sock


def masked_text(payload: bytes) -> bytes:
    """A client text frame; an all-zero mask leaves the payload as is."""
    return bytes([0x81, 0x80 | 127]) + len(payload).to_bytes(8, "big") + bytes(4) + payload


def test_a_stalled_reader_is_dropped_without_affecting_others(models):
    async def scenario():
        limits = ServerLimits(send_buffer_bytes=1 << 20, send_timeout_s=1.0)
        async with running(models, limits=limits) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as other:
                await expect(other, "hello", 30)
                stalled = await asyncio.to_thread(raw_client, port)
                stalled.settimeout(5)
                big = masked_text(json.dumps({"type": "ping", "id": "x" * 200_000}).encode())
                dropped = False
                for _ in range(200):  # up to 40 MB of pongs this client never reads
                    try:
                        await asyncio.to_thread(stalled.sendall, big)
                    except ConnectionError:  # reset by the server
                        dropped = True
                        break
                    await other.send(json.dumps({"type": "ping", "id": "ok"}))
                    assert (await expect(other, "pong"))["id"] == "ok"
                stalled.close()
                assert dropped
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
        async with running(models) as port:
            return await asyncio.gather(*(one(port) for _ in range(4)))
    assert asyncio.run(scenario()) == [True] * 4
