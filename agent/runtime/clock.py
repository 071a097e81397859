"""Clocks that stamp and pace a session: wall time for live use, media time for replay."""
from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on the session timeline (0 = session start)."""

    async def sleep_until(self, t: float) -> None:
        """Return once the timeline has reached ``t``."""


class WallClock:
    """Real time since the session started; used live and for real-time replay."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()

    def restart(self) -> None:
        self._t0 = time.perf_counter()

    def now(self) -> float:
        return time.perf_counter() - self._t0

    async def sleep_until(self, t: float) -> None:
        delay = t - self.now()
        if delay > 0:
            await asyncio.sleep(delay)


class MediaClock:
    """Time is the media position the source has reached; it moves only when the source says so.

    Used for ``--pace fast``: the source advances the clock as it pushes media, so a
    replay gives the same timeline however fast the machine computes.
    """

    def __init__(self) -> None:
        self._t = 0.0
        self._waiters: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self._t

    def advance(self, t: float) -> None:
        if t <= self._t:
            return
        self._t = t
        due = [w for w in self._waiters if w[0] <= t]
        self._waiters = [w for w in self._waiters if w[0] > t]
        for _, fut in due:
            if not fut.done():
                fut.set_result(None)

    async def sleep_until(self, t: float) -> None:
        if t <= self._t:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((t, fut))
        try:
            await fut
        finally:
            if not fut.done():
                fut.cancel()
            self._waiters = [w for w in self._waiters if w[1] is not fut]
