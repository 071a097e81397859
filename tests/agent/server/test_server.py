"""`humansense serve`'s conversations over a socket: protocol 1, real answers, the guards that close a bad or slow
client while the others go on, capacity, failing sessions, and what the operator is told."""
import asyncio
import contextlib
import gc
import json
import time
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import agent.server.connection
from agent.config import ConfigError, ServerSettings, load_config
from agent.conversation.session import Session
from agent.runtime.events import EventKind
from agent.server.limits import ServerLimits
from agent.server.notes import Answered, Connected, Disconnected, TurnedAway
from tests.agent.server.clients import (RawClient, audio_frame, closed_with, each_gets_its_error, expect, ping_frames,
                                        running, serving, stream_realtime)

pytestmark = pytest.mark.slow


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
    notes = []

    async def scenario():
        async with running(models, observer=notes.append) as port:
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
            async with asyncio.timeout(5):  # the operator hears of the end once the session has wound down
                while not isinstance(notes[-1], Disconnected):
                    await asyncio.sleep(0.05)
        return turn
    turn = asyncio.run(scenario())
    connected, answered, ended = notes
    assert connected == Connected(answered.peer, answered.session, 1, 2)
    assert answered == Answered(connected.peer, connected.session, turn["latency_ms"]["voice_to_voice"],
                                turn["agent_emotion"], True)
    assert (ended.peer, ended.sessions, ended.answers, ended.how) == (connected.peer, 0, 1, "client left")


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
    notes = []

    async def scenario():
        async with running(models, config=config, observer=notes.append) as port:
            async with connect(f"ws://127.0.0.1:{port}/ws") as first:
                await expect(first, "hello", 30)
                async with connect(f"ws://127.0.0.1:{port}/ws") as second:
                    busy = json.loads(await asyncio.wait_for(second.recv(), 5))
                    assert busy["type"] == "busy" and busy["message"]
                    assert busy["sessions"] == 1 and busy["capacity"] == 1 and busy["retry_after_s"] > 0
                    rcvd = await closed_with(second)
                    assert rcvd.code == 1013 and "busy" in rcvd.reason
                    assert [type(note) for note in notes] == [Connected, TurnedAway]
                    assert (notes[1].sessions, notes[1].capacity) == (1, 1) and notes[1].peer != notes[0].peer
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
    monkeypatch.setattr(agent.server.connection, "Session", EndingSession)

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
    monkeypatch.setattr(agent.server.connection, "Session", BrokenSession)

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
