"""Supervision: a session's tasks belong to it; a critical failure ends it with one line; the others degrade once."""
import asyncio

from agent.runtime.events import EventKind
from agent.runtime.supervisor import SessionFailure, Supervisor


def make():
    published, counted = [], []
    sup = Supervisor(lambda kind, data=None, t=None: published.append((kind, data)), counted.append)
    return sup, published, counted


async def boom(exc):
    await asyncio.sleep(0)
    raise exc


def test_a_critical_task_that_raises_fails_the_session_with_one_line():
    async def go():
        sup, published, _ = make()
        sup.spawn(boom(ValueError("bad frame\nwith detail")), "video", critical=True)
        await asyncio.wait_for(sup.failed.wait(), 1)
        return sup
    sup = asyncio.run(go())
    assert sup.failure == "video: ValueError: bad frame with detail"


def test_a_session_failure_anywhere_ends_the_session_with_its_own_words():
    async def go():
        sup, _, _ = make()
        sup.spawn(boom(SessionFailure("the player failed: device gone")), "speak-end_of_turn")
        await asyncio.wait_for(sup.failed.wait(), 1)
        return sup
    assert asyncio.run(go()).failure == "speak-end_of_turn: the player failed: device gone"


def test_other_failures_degrade_counted_every_time_reported_once_per_place():
    async def go():
        sup, published, counted = make()
        for _ in range(3):
            sup.spawn(boom(RuntimeError("no")), "backchannel")
        await asyncio.sleep(0.05)
        return sup, published, counted
    sup, published, counted = asyncio.run(go())
    assert sup.failure is None and not sup.failed.is_set()
    assert counted == ["faults_backchannel"] * 3
    assert published == [(EventKind.ERROR, {"where": "backchannel", "message": "RuntimeError: no"})]


def test_the_first_reason_wins():
    sup, _, _ = make()
    sup.fail("media: decoder died")
    sup.fail("audio: later")
    assert sup.failure == "media: decoder died"


def test_close_cancels_every_task_and_names_those_that_will_not_stop():
    async def stubborn():  # swallows the cancel, as a blocking call in a thread would seem to
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(1.5)

    async def go():
        sup, _, _ = make()
        polite = sup.spawn(asyncio.sleep(10), "polite")
        sup.spawn(stubborn(), "stubborn")
        await asyncio.sleep(0)
        stuck = await sup.close()
        assert polite.cancelled()
        return stuck
    assert asyncio.run(go()) == ["stubborn"]


def test_a_cancelled_task_is_neither_a_failure_nor_a_fault():
    async def go():
        sup, published, counted = make()
        task = sup.spawn(asyncio.sleep(10), "speak", critical=True)
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.sleep(0.01)
        return sup, published, counted
    sup, published, counted = asyncio.run(go())
    assert sup.failure is None and published == [] and counted == []


def test_nothing_spawned_after_close_runs():
    ran = []

    async def work():
        ran.append(1)

    async def go():
        sup, _, _ = make()
        await sup.close()
        task = sup.spawn(work(), "late")
        await asyncio.sleep(0.01)
        return task
    assert asyncio.run(go()).cancelled() and ran == []
