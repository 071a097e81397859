"""Model lanes: blocking calls run off the loop, one lane per kind of work; a call cancelled while queued never runs."""
import asyncio
import threading
import time

from agent.config import load_config
from agent.runtime.lanes import Models, make_lanes


def lanes_only():
    cfg = load_config()
    return Models(config=cfg, vad=None, transcriber=None, end_of_turn=None, tts=None, brain=None,  # type: ignore[arg-type]
                  lanes=make_lanes(cfg))


def test_a_queued_call_that_is_cancelled_never_runs_and_other_lanes_do_not_wait():
    models = lanes_only()
    ran: list[str] = []
    release = threading.Event()

    def slow(name):
        release.wait(5)
        ran.append(name)

    async def scenario():
        first = asyncio.create_task(models.run("asr", slow, "first"))
        queued = asyncio.create_task(models.run("asr", slow, "queued"))
        await asyncio.sleep(0.05)
        queued.cancel()
        t0 = time.perf_counter()
        await models.run("vad", ran.append, "vad")        # another lane: not blocked by the busy ASR lane
        vad_wait = time.perf_counter() - t0
        release.set()
        await first
        await asyncio.gather(queued, return_exceptions=True)
        await asyncio.sleep(0.05)
        return vad_wait

    vad_wait = asyncio.run(scenario())
    assert ran == ["vad", "first"]
    assert vad_wait < 1.0
    for pool in models.lanes.values():
        pool.shutdown()
