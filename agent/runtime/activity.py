"""Tracks in-flight work so a fast replay can wait until the pipeline is quiet before feeding more media."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator


class Activity:
    """A counter of holds; ``idle()`` returns once it is zero (re-checked after every wake-up)."""

    def __init__(self) -> None:
        self._n = 0
        self._changed = asyncio.Event()

    @property
    def count(self) -> int:
        return self._n

    def hold(self) -> None:
        self._n += 1

    def release(self) -> None:
        self._n -= 1
        if self._n <= 0:
            self._n = 0
            self._changed.set()

    @asynccontextmanager
    async def busy(self) -> AsyncIterator[None]:
        self.hold()
        try:
            yield
        finally:
            self.release()

    @asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Temporarily give a hold back while waiting on something that is not compute."""
        self.release()
        try:
            yield
        finally:
            self.hold()

    async def idle(self) -> None:
        while self._n > 0:
            self._changed.clear()
            await self._changed.wait()
        await asyncio.sleep(0)
        while self._n > 0:
            self._changed.clear()
            await self._changed.wait()
