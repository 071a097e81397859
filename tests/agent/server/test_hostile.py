"""Hostile input: deep JSON, huge numbers, decompression bombs and broken frames each get their documented answer,
and the protocol documents exactly the close and error codes the server sends."""
import asyncio
import json
import re
from pathlib import Path

import cv2
import numpy as np
import psutil
import pytest
from websockets.asyncio.client import connect

from agent.server import protocol
from agent.server.jpegsize import jpeg_size
from agent.server.limits import ServerLimits
from tests.agent.server.clients import (RawClient, claiming, client_frame, each_gets_its_error, expect, running,
                                        tiny_jpeg)

pytestmark = pytest.mark.slow
SERVER_SOURCES = sorted(Path(protocol.__file__).parent.glob("*.py"))


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


def test_the_protocol_documents_exactly_the_close_codes_the_server_sends():
    documented = {int(code) for code in re.findall(r"^  (\d{4})  ", protocol.__doc__, re.M)}
    sources = "".join(path.read_text() for path in SERVER_SOURCES)
    ours = {int(code) for code in re.findall(r"(?:\bClose\(|close_within\(ws, )(\d{4})", sources)}
    by_websockets = {1001, 1002, 1007, 1009}  # shutdown, a broken frame, text that is not UTF-8, too big
    assert ours == {1008, 1011, 1013}
    assert documented == ours | by_websockets


def test_the_protocol_documents_exactly_the_error_codes_the_server_sends():
    listed = re.search(r"CODE is\s+one of ((?:\w+,\s+)*\w+)", protocol.__doc__).group(1)
    documented = {code.strip() for code in listed.split(",")}
    sources = "".join(path.read_text() for path in SERVER_SOURCES)
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
