"""The fault matrix for the socket source: a client that vanishes, stalls or slows down, at its first or a later frame.

raise: the client vanishes (TCP abort); timeout: it stops sending; hang: it stops sending and reading; slow:
frames arrive 10x slower for a while. A vanished client's session ends within the shutdown bound and leaves
nothing running; a stalled or hung one is closed with 1008 at the idle timeout (a hung one finds the close
when it reads again); a slow one is still answered. Another client is served throughout.
"""
import asyncio
import threading
import time

import numpy as np
import pytest
from websockets.asyncio.client import connect

from agent.server.limits import ServerLimits
from tests.agent.faults import SLOWDOWN
from tests.agent.server.clients import closed_with, expect, serving

pytestmark = pytest.mark.slow

FRAME = 512
IDLE_S = 1.0
SLOW_FRAMES = 5


async def send_with_fault(ws, pcm, kind, at):
    """Stream ``pcm`` in real time; at frame ``at`` the client vanishes, stalls, or sends SLOW_FRAMES frames 10x
    slower."""
    t0 = time.perf_counter()
    late = 0.0
    for n, i in enumerate(range(0, len(pcm) - FRAME + 1, FRAME), start=1):
        if n == at and kind == "raise":
            ws.transport.abort()
            return
        if n == at and kind in ("timeout", "hang"):
            await asyncio.sleep(3600)
        if kind == "slow" and at <= n < at + SLOW_FRAMES:
            late += (SLOWDOWN - 1) * FRAME / 16000
        await ws.send(b"\x01" + pcm[i: i + FRAME].astype("<i2").tobytes())
        await asyncio.sleep(max(0.0, t0 + late + (i + FRAME) / 16000 - time.perf_counter()))


async def answered(ws, timeout=20.0):
    return (await expect(ws, "agent_text", timeout))["text"]


@pytest.mark.parametrize("kind,at", [(kind, at) for kind in ("raise", "timeout", "hang", "slow") for at in (1, 40)])
def test_a_client_fault_ends_its_session_cleanly_and_others_are_served(models, utterance, kind, at):  # noqa: F811
    pcm, _ = utterance
    talk = np.concatenate([pcm, np.zeros(16000 * 8, np.int16)])  # the client goes on sending silence after it
    threads_before = _threads()

    async def scenario():
        async with serving(models, limits=ServerLimits(idle_timeout_s=IDLE_S, shutdown_timeout_s=1.0)) as (server, _, port):
            async with connect(f"ws://127.0.0.1:{port}/ws") as faulty:
                await expect(faulty, "hello", 30)
                sender = asyncio.create_task(send_with_fault(faulty, talk, kind, at))
                if kind == "raise":
                    await sender
                elif kind in ("hang", "timeout"):
                    t0 = time.monotonic()
                    if kind == "hang":  # reads nothing until well after the idle timeout
                        await asyncio.sleep(IDLE_S + at * FRAME / 16000 + 1)
                    rcvd = await closed_with(faulty, timeout=IDLE_S + at * FRAME / 16000 + 5)
                    assert rcvd.code == 1008 and "idle" in rcvd.reason
                    assert time.monotonic() - t0 < IDLE_S + at * FRAME / 16000 + (4 if kind == "hang" else 3)
                else:
                    assert await answered(faulty)
                sender.cancel()
            async with asyncio.timeout(5):  # its session has ended and let go of the connection
                while server.connections:
                    await asyncio.sleep(0.05)
            async with connect(f"ws://127.0.0.1:{port}/ws") as other:  # the server goes on serving
                await expect(other, "hello", 30)
                await other.send('{"type":"ping","id":1}')
                assert (await expect(other, "pong", 5))["id"] == 1

    asyncio.run(asyncio.wait_for(scenario(), 60))
    deadline = time.monotonic() + 3
    while _threads() - threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _threads() - threads_before


def _threads():
    """Threads other than the model lanes' (a fixed pool per lane, shared by every session)."""
    return {t.ident for t in threading.enumerate() if not t.name.startswith("lane-")}
