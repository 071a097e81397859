"""Protocol fuzzing against a live server: a hostile frame earns a typed error or a documented close, never silence.

Every case comes from ``random.Random(SEED)``; a failure names the seed and the
case number, so ``HUMANSENSE_FUZZ_SEED=<seed>`` replays it exactly.
"""
import asyncio
import gc
import json
import math
import os
import random
import time

import psutil
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agent.server import protocol
from agent.config import load_config
from agent.runtime.lanes import Models
from agent.server.limits import ServerLimits
from tests.agent.server.clients import RawClient, claiming, client_frame, expect, serving, tiny_jpeg

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("HUMANSENSE_FUZZ_SEED", "1105"))
MESSAGES = 3000
RAW_FRAMES = 100
CYCLES = 200
AT_ONCE = 4  # connections in flight together (under max_sessions)
MAX_BYTES = 64 * 1024
LIMITS = ServerLimits(messages_per_s=1e6, burst=10 ** 6, max_sessions=64, max_message_bytes=MAX_BYTES,
                      max_image_side=640, max_image_pixels=640 * 480)
# Each session synthesizes its acknowledgement phrases as it starts (~60 ms of CPU); without them hundreds of
# connections fit the time budget, and nothing here depends on them.
QUICK_START = ["output.terminal=false", "policy.first_sentence_deadline_ms=0"]


@pytest.fixture(scope="module")
def models():
    loaded = Models.load(load_config(None, QUICK_START))
    yield loaded
    asyncio.run(loaded.aclose())


JSON_CODES = {"bad_json", "bad_message", "unknown_type", "bad_settings"}
ALL_CODES = JSON_CODES | {"empty_frame", "unknown_kind", "bad_audio_frame", "bad_jpeg"}
VOICE = "heart"


class Case:
    """One upstream message and what the protocol says must come of it.

    ``errors``: the error codes allowed; ``must_fail``: an error (or a close) is required;
    ``closes``: the close codes allowed instead of an error.
    """

    def __init__(self, kind, data, errors=(), must_fail=True, closes=(), text=None):
        self.kind, self.data, self.text = kind, data, text
        self.errors, self.must_fail, self.closes = set(errors), must_fail, set(closes)

    def __repr__(self):
        return f"{self.kind}({len(self.data)} bytes: {self.data[:60]!r})"


# ---- generators: each returns a Case --------------------------------------------------------------------------------
def random_binary(rng):
    kind = rng.choice([b for b in range(256) if b not in (protocol.KIND_AUDIO, protocol.KIND_JPEG)])
    if rng.random() < 0.05:
        return Case("empty", b"", {"empty_frame"})
    return Case("unknown_kind", bytes([kind]) + rng.randbytes(rng.randrange(0, 3000)), {"unknown_kind"})


def bad_audio(rng):
    n = rng.choice([rng.randrange(0, 640), rng.randrange(1281, 5000), rng.randrange(320, 640) * 2 + 1])
    return Case("bad_audio", b"\x01" + rng.randbytes(n), {"bad_audio_frame"})


def good_audio(rng):
    n = rng.randrange(protocol.AUDIO_MIN_BYTES // 2, protocol.AUDIO_MAX_BYTES // 2 + 1) * 2
    quiet = bytes(n) if rng.random() < 0.7 else bytes(rng.randrange(-64, 64) & 0xFF for _ in range(n))
    return Case("good_audio", b"\x01" + quiet, must_fail=False, closes={1008})  # 1008: audio faster than real time


def random_jpeg(rng):
    return Case("random_jpeg", b"\x02" + rng.randbytes(rng.randrange(1, 4000)), {"bad_jpeg"})


def mutated_jpeg(rng):
    data = bytearray(tiny_jpeg(rng.randrange(1, 64), rng.randrange(1, 64)))
    for _ in range(rng.randrange(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    if rng.random() < 0.5:
        del data[rng.randrange(2, len(data)):]
    return Case("mutated_jpeg", b"\x02" + bytes(data), {"bad_jpeg"}, must_fail=False)


def bomb_jpeg(rng):
    width, height = rng.choice([(30000, 30000), (65535, 1), (1, 65535), (641, 2), (700, 700)])
    return Case("bomb_jpeg", b"\x02" + claiming(tiny_jpeg(), width, height), {"bad_jpeg"})


def good_jpeg(rng):
    return Case("good_jpeg", b"\x02" + tiny_jpeg(rng.randrange(8, 200), rng.randrange(8, 200)), must_fail=False)


def random_char(rng):
    pick = rng.random()
    if pick < 0.4:
        return rng.choice('{}[]":,\\ 0123456789.eE+-truefalsnl')
    if pick < 0.7:
        return chr(rng.randrange(0x20, 0x7F))
    if pick < 0.8:
        return chr(rng.randrange(0, 0x20))
    code = rng.randrange(0x80, 0x10FFFF)
    return chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd"  # a lone surrogate cannot be sent as UTF-8


def garbage_text(rng):
    text = "".join(random_char(rng) for _ in range(rng.randrange(0, 300)))
    return Case("garbage_text", text.encode(), JSON_CODES, text=text)


def deep_json(rng):
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}"), ('[{"b":', "}]")])
    depth = rng.choice([rng.randrange(1, 40), rng.randrange(40, MAX_BYTES // (len(opener) + len(closer)))])
    text = rng.choice(['{"type":"ping","id":', ""]) + opener * depth + "1" + closer * rng.choice([depth, 0])
    return Case("deep_json", text.encode(), {"bad_json", "bad_message"}, text=text)


def huge_number(rng):
    length = rng.choice([rng.randrange(1, 40), rng.randrange(4000, 20000)])
    digits = "".join(rng.choice("0123456789") for _ in range(length))
    number = rng.choice(["", "-"]) + (digits.lstrip("0") or "0")
    number += rng.choice(["", ".5", "e999", "e-999", "E+3"])
    field = rng.choice(['"id"', '"speed"'])
    text = '{"type":"%s",%s:%s}' % ("ping" if field == '"id"' else "settings", field, number)
    return Case("huge_number", text.encode(), {"bad_json", "bad_message", "bad_settings"}, must_fail=False, text=text)


def random_value(rng, depth=0):
    pick = rng.random()
    if pick < 0.1:
        return None
    if pick < 0.2:
        return rng.random() < 0.5
    if pick < 0.35:
        return rng.choice([0, 1, -1, 7, 2 ** 53, 2 ** 53 + 1, -(2 ** 60), rng.randrange(-10 ** 30, 10 ** 30)])
    if pick < 0.5:
        return rng.choice([0.5, 1.0, 1.25, 2.0, 2.5, -0.0, 1e308, 5e-324, rng.uniform(-10, 10)])
    if pick < 0.75:
        return "".join(random_char(rng) for _ in range(rng.choice([0, 1, 5, 64, 65, 300])))
    if depth > 3:
        return "deep"
    if pick < 0.87:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    keys = [random_value(rng, 4) if rng.random() < 0.1 else rng.choice(["a", "type", "id"]) for _ in range(3)]
    return {key: random_value(rng, depth + 1) for key in keys[:rng.randrange(0, 4)]}


def expected_for(message):
    """The protocol's verdict on a parsed control message: an error code, or None when it is valid."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "bad_message"
    kind = message["type"]
    if kind == "stop":
        return None
    if kind == "ping":
        ping_id = message.get("id")
        ok = ping_id is None or (isinstance(ping_id, str) and len(ping_id) <= protocol.MAX_ID_CHARS) or \
            (isinstance(ping_id, int) and not isinstance(ping_id, bool) and abs(ping_id) <= 2 ** 53) or \
            (isinstance(ping_id, float) and math.isfinite(ping_id))
        return None if ok else "bad_message"
    if kind == "settings":
        voice, speed = message.get("voice"), message.get("speed")
        if voice is not None and (not isinstance(voice, str) or voice != VOICE):
            return "bad_settings"
        if speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float))
                                  or not 0.5 <= speed <= 2.0):
            return "bad_settings"
        return None
    return "unknown_type"


def structured_json(rng):
    message = {"type": rng.choice(["stop", "ping", "settings", "dance", "", 5, None, ["ping"]])}
    for key in rng.sample(["id", "voice", "speed", "extra"], rng.randrange(0, 4)):
        message[key] = random_value(rng)
    if rng.random() < 0.3 and message["type"] == "settings":
        message["voice"] = VOICE
    if rng.random() < 0.2:
        message = random_value(rng)
    text = json.dumps(message, ensure_ascii=rng.random() < 0.5)
    code = expected_for(message)
    return Case("structured_json", text.encode(), {code} if code else set(), must_fail=code is not None, text=text)


def invalid_utf8(rng):
    data = rng.choice([b'{"type":"\xff"}', b"\xc3\x28", b"\xed\xa0\x80", rng.randbytes(rng.randrange(1, 50)) + b"\xff"])
    return Case("invalid_utf8", data, closes={1007}, text=data)


def oversized(rng):
    size = MAX_BYTES + rng.randrange(1, 4096)
    if rng.random() < 0.5:
        text = '{"type":"ping","id":"' + "x" * size + '"}'
        return Case("oversized", text.encode(), closes={1009}, text=text)
    return Case("oversized", b"\x02" + bytes(size), closes={1009})


GENERATORS = [(random_binary, 8), (bad_audio, 8), (good_audio, 2), (random_jpeg, 6), (mutated_jpeg, 6), (bomb_jpeg, 4),
              (good_jpeg, 1), (garbage_text, 15), (deep_json, 10), (huge_number, 8), (structured_json, 30),
              (invalid_utf8, 0.3), (oversized, 0.3)]  # these two close the connection: few, as reconnecting is slow


def cases(rng, n):
    makers, weights = zip(*GENERATORS)
    made = [rng.choices(makers, weights)[0](rng) for _ in range(n)]
    for case in made:
        if len(case.data) > MAX_BYTES:  # whatever it holds, the size limit comes first
            case.errors, case.must_fail, case.closes = set(), True, {1009}
    return made


# ---- the exchange ---------------------------------------------------------------------------------------------------
async def exchange(ws, case, sync_id):
    """Send one case, then a ping; everything up to its pong: (errors, close code or None)."""
    if case.text is None:
        await ws.send(case.data)
    elif isinstance(case.text, bytes):
        await ws.send(case.text, text=True)  # bytes that are not UTF-8, sent as a text frame
    else:
        await ws.send(case.text)
    errors = []
    try:
        await ws.send(json.dumps({"type": "ping", "id": sync_id}))
        async with asyncio.timeout(10):  # a silent hang fails here
            while True:
                message = await ws.recv()
                if isinstance(message, bytes):
                    continue
                data = json.loads(message)
                if data["type"] == "error":
                    errors.append(data)
                elif data["type"] == "pong" and data["id"] == sync_id:
                    return errors, None
    except ConnectionClosed as exc:
        return errors, exc.rcvd.code if exc.rcvd else 1006


def check(i, case, errors, closed):
    where = f"seed {SEED} case {i}: {case!r} got errors {errors} and close {closed}"
    if closed is not None:
        assert closed in case.closes, where
        return
    assert not case.closes or not case.must_fail, where
    assert len(errors) <= 1, where
    if case.must_fail:
        assert errors, where
    for error in errors:
        assert error["code"] in case.errors and error["code"] in ALL_CODES, where
        assert 0 < len(error["message"]) < 300 and "\n" not in error["message"], where


async def connected(port):
    ws = await connect(f"ws://127.0.0.1:{port}/ws", max_size=None)
    await expect(ws, "hello", 30)
    return ws


def test_random_messages_get_typed_errors_or_documented_closes_and_the_server_goes_on(models):
    rng = random.Random(SEED)
    batch = cases(rng, MESSAGES)

    async def scenario():
        async with serving(models, limits=LIMITS) as (_, _, port):
            ws = await connected(port)
            started, closes = time.perf_counter(), 0
            for i, case in enumerate(batch):
                errors, closed = await exchange(ws, case, i)
                check(i, case, errors, closed)
                if closed is not None:
                    closes += 1
                    ws = await connected(port)
            elapsed = time.perf_counter() - started
            await ws.close()
            async with connect(f"ws://127.0.0.1:{port}/ws") as fresh:  # still serving new connections
                await expect(fresh, "hello", 30)
                await fresh.send(json.dumps({"type": "ping", "id": "after"}))
                assert (await expect(fresh, "pong"))["id"] == "after"
            print(f"fuzz: {MESSAGES} messages in {elapsed:.1f} s ({MESSAGES / elapsed:.0f}/s), {closes} closes")
    asyncio.run(scenario())


# ---- frames that break RFC 6455 -------------------------------------------------------------------------------------
def random_raw_frame(rng):
    """A frame a WebSocket library would never send, and the close code it must earn (None: it is harmless)."""
    pick = rng.random()
    payload = rng.randbytes(rng.randrange(0, 200))
    if pick < 0.2:
        return client_frame(payload, opcode=rng.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15])), {1002}
    if pick < 0.3:
        return client_frame(b'{"type":"stop"}', masked=False), {1002}
    if pick < 0.4:
        frame = bytearray(client_frame(b'{"type":"stop"}'))
        frame[0] |= rng.choice([0x40, 0x20, 0x10])  # a reserved bit, no extension negotiated
        return bytes(frame), {1002}
    if pick < 0.5:
        return client_frame(payload, opcode=0x0), {1002}  # a continuation with nothing to continue
    if pick < 0.6:
        return client_frame(rng.randbytes(rng.randrange(126, 300)), opcode=rng.choice([0x9, 0xA])), {1002}
    if pick < 0.7:
        return client_frame(payload, opcode=0x9, fin=False), {1002}  # a fragmented control frame
    if pick < 0.8:
        code = rng.choice([0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535])
        return client_frame(code.to_bytes(2, "big") + b"x", opcode=0x8), {1002}
    if pick < 0.9:
        return client_frame(b'{"type":"st', fin=False) + client_frame(b"op}", opcode=0x1), {1002}
    return client_frame(payload, opcode=rng.choice([0x9, 0xA])), None  # a ping or pong from the client is fine


def test_frames_that_break_the_websocket_rules_get_their_close_codes(models):
    rng = random.Random(SEED)
    frames = [random_raw_frame(rng) for _ in range(RAW_FRAMES)]

    def one(port, i, frame, codes):
        client = RawClient(port)
        try:
            client.sock.sendall(frame + client_frame(json.dumps({"type": "ping", "id": i}).encode()))
            while True:
                opcode, payload = client.frame()
                if opcode == 0x8:
                    code = int.from_bytes(payload[:2], "big")
                    assert codes is not None and code in codes, \
                        f"seed {SEED} raw frame {i}: {frame[:20]!r} closed {code}"
                    return
                if opcode == 0x1 and json.loads(payload).get("type") == "pong":
                    assert codes is None, f"seed {SEED} raw frame {i}: {frame[:20]!r} was accepted"
                    return
        finally:
            client.close()

    async def scenario():
        async with serving(models, limits=LIMITS) as (_, _, port):
            for at in range(0, len(frames), AT_ONCE):
                await asyncio.gather(*(asyncio.to_thread(one, port, i, frame, codes)
                                       for i, (frame, codes) in enumerate(frames[at:at + AT_ONCE], at)))
            async with connect(f"ws://127.0.0.1:{port}/ws") as fresh:
                await expect(fresh, "hello", 30)
    asyncio.run(scenario())


# ---- no leaks -------------------------------------------------------------------------------------------------------
def test_connect_disconnect_cycles_leave_threads_and_descriptors_flat(models):
    me = psutil.Process()

    async def cycle(port, i):
        async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
            if i % 4 == 0:  # some leave after the hello, most during session setup (the cheaper path to test)
                await expect(ws, "hello", 30)

    async def settled(server):
        async with asyncio.timeout(30):
            while server.connections:
                await asyncio.sleep(0.05)

    async def scenario():
        async with serving(models, limits=LIMITS) as (server, _, port):
            for at in range(0, 3 * AT_ONCE, AT_ONCE):  # warm up, as concurrently as measured: pool threads, lazy parts
                await asyncio.gather(*(cycle(port, i) for i in range(at, at + AT_ONCE)))
            await settled(server)
            gc.collect()  # a finished session is freed by the cycle collector, its model files with it
            threads, fds = me.num_threads(), me.num_fds()
            started = time.perf_counter()
            for at in range(0, CYCLES, AT_ONCE):
                await asyncio.gather(*(cycle(port, i) for i in range(at, at + AT_ONCE)))
            await settled(server)
            elapsed = time.perf_counter() - started
            gc.collect()
            assert me.num_threads() <= threads + 2, (threads, me.num_threads())
            assert me.num_fds() <= fds + 4, (fds, me.num_fds())
            print(f"cycles: {CYCLES} in {elapsed:.1f} s ({elapsed / CYCLES * 1000:.0f} ms each)")
    asyncio.run(scenario())
