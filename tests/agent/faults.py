"""Test helper: inject a fault (raise, timeout, hang, 10x slowdown) at the n-th call of one place of a session.

Places: the model lanes (``vad``, ``asr``, ``cues``, ``vision``, ``end_of_turn``, ``tts``; every call goes
through :meth:`agent.runtime.lanes.Models.run`), the ``brain``, the ``player``, the ``recorder``'s file and the media
``source``. The doubles wrap the real parts and speak their real interfaces; a hang blocks until
:meth:`Fault.release`.
"""
from __future__ import annotations

import asyncio
import errno
import threading
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable

LANES = ("vad", "asr", "cues", "vision", "end_of_turn", "tts")
KINDS = ("raise", "timeout", "hang", "slow")
SLOWDOWN = 10


class InjectedFault(RuntimeError):
    pass


@dataclass
class Fault:
    place: str
    kind: str
    at: int  # the call that fails, counted from 1
    calls: int = 0
    fired: bool = False
    _released: threading.Event = field(default_factory=threading.Event)

    def hit(self) -> bool:
        self.calls += 1
        if self.calls == self.at:
            self.fired = True
            return True
        return False

    def release(self) -> None:
        self._released.set()

    def failure(self) -> Exception:
        if self.place == "recorder":  # what a full disk raises
            return OSError(errno.ENOSPC, f"injected: no space left on the device of the {self.place}")
        return InjectedFault(f"injected failure in {self.place}")

    # ---- a blocking call (a lane's model, a file write) --------------------------------------------------------
    def wrap_blocking(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def faulty(*args: Any) -> Any:
            if self.kind == "raise":
                raise self.failure()
            if self.kind == "timeout":
                raise TimeoutError(f"injected timeout in {self.place}")
            if self.kind == "hang":
                self._released.wait()
                raise InjectedFault(f"{self.place} released from its hang")
            t0 = time.perf_counter()
            value = fn(*args)
            time.sleep((SLOWDOWN - 1) * (time.perf_counter() - t0))
            return value
        return faulty

    # ---- an awaited step (the brain's stream, the player, the source) ------------------------------------------
    async def strike(self, normal_s: float = 0.02) -> None:
        """Act out the fault in async code; ``slow`` waits ``SLOWDOWN`` times ``normal_s``."""
        if self.kind == "raise":
            raise self.failure()
        if self.kind == "timeout":
            raise TimeoutError(f"injected timeout in {self.place}")
        if self.kind == "hang":
            while not self._released.is_set():
                await asyncio.sleep(0.05)
            raise InjectedFault(f"{self.place} released from its hang")
        await asyncio.sleep(SLOWDOWN * normal_s)


def inject_lane(models: Any, fault: Fault) -> Callable[[], None]:
    """Route ``fault.place``'s lane calls through the fault; returns the undo."""
    real = models.run

    async def run(lane: str, fn: Callable[..., Any], *args: Any) -> Any:
        if lane == fault.place and fault.hit():
            fn = fault.wrap_blocking(fn)
        return await real(lane, fn, *args)

    models.run = run
    return lambda: delattr(models, "run")


class FaultyBrain:
    """The real brain, but the n-th answer fails before its first delta (a slow one is late)."""

    def __init__(self, brain: Any, fault: Fault) -> None:
        self.brain, self.fault = brain, fault
        self.name = brain.name

    async def respond(self, view: Any) -> AsyncIterator[Any]:
        if self.fault.hit():
            await self.fault.strike(0.05)
        async for delta in self.brain.respond(view):
            yield delta

    async def warm_up(self) -> None:
        await self.brain.warm_up()

    async def aclose(self) -> None:
        await self.brain.aclose()


class FaultyPlayer:
    """A real player whose n-th sentence fails to play."""

    def __init__(self, player: Any, fault: Fault) -> None:
        self.player, self.fault = player, fault

    async def play(self, audio: Any, pcm16k: Any) -> float:
        if self.fault.hit():
            await self.fault.strike(0.05)
        return await self.player.play(audio, pcm16k)

    def stop(self) -> float:
        return self.player.stop()

    @property
    def busy_until(self) -> float:
        return self.player.busy_until


class FaultyFile:
    """The recording's real sound file, whose n-th write fails (a full disk)."""

    def __init__(self, file: Any, fault: Fault) -> None:
        self.file, self.fault = file, fault

    def write(self, data: Any) -> Any:
        write = self.fault.wrap_blocking(self.file.write) if self.fault.hit() else self.file.write
        return write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)


class FaultySource:
    """A real source whose n-th media item fails to arrive."""

    def __init__(self, source: Any, fault: Fault) -> None:
        self.source, self.fault = source, fault
        self.live, self.has_audio, self.has_video = source.live, source.has_audio, source.has_video

    async def stream(self) -> AsyncIterator[Any]:
        async for item in self.source.stream():
            if self.fault.hit():
                await self.fault.strike(0.005)
            yield item

    async def aclose(self) -> None:
        await self.source.aclose()
