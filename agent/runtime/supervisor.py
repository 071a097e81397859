"""A session's tasks and faults: every task it starts belongs to it, a failed worker ends it, a failed model degrades.

Workers (the media pump, the audio and video loops, the clock) are *critical*: if one raises,
the session has lost a sense or its timeline and ends with a one-line reason. Everything
else (an answer's production and playback, a backchannel, a speculative check) is not: its
failure is reported once per place and the session goes on. A :class:`SessionFailure` is
critical wherever it is raised (e.g. the player lost its device).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Coroutine

from agent.runtime.events import EventKind
from agent.media.sources import SourceError
from floor import error_line

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 1.0
"""How long cancelled tasks get to unwind when the session ends."""


class SessionFailure(RuntimeError):
    """The session cannot go on (a sense or the speaker is gone); the message is the one-line reason."""


class Supervisor:
    """Owns a session's tasks; ``failed`` is set with ``failure`` (the reason) when a critical one raises."""

    def __init__(self, publish: Callable[..., None], count: Callable[[str], None]) -> None:
        self._publish = publish
        self._count = count
        self._tasks: set[asyncio.Task[Any]] = set()
        self._noted: set[str] = set()
        self._closed = False
        self.failure: str | None = None
        self.failed = asyncio.Event()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str, *, critical: bool = False) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        if self._closed:  # e.g. a command executed while the session winds down: it never runs
            task.cancel()
            return task
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, critical))
        return task

    def _done(self, task: asyncio.Task[Any], critical: bool) -> None:
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        assert exc is not None
        if critical or isinstance(exc, SessionFailure):
            explained = isinstance(exc, (SessionFailure, SourceError))  # their message is the whole story
            reason = f"{task.get_name()}: {exc}" if explained else f"{task.get_name()}: {error_line(exc, typed=True)}"
            logger.error("%s", reason)
            logger.debug("%s failed", task.get_name(), exc_info=exc)  # tracebacks are for -vv, not for users
            self.fail(reason)
        else:
            self.degraded(task.get_name(), exc)

    def fail(self, reason: str) -> None:
        """End the session with ``reason`` (the first reason wins)."""
        if self.failure is None:
            self.failure = reason
            self.failed.set()

    def degraded(self, place: str, exc: BaseException) -> None:
        """A model or step failed and the session goes on without it: counted every time, reported once per place."""
        self._count(f"faults_{place}")
        if place in self._noted:
            logger.debug("%s failed again: %s", place, error_line(exc, typed=True))
            return
        self._noted.add(place)
        logger.warning("%s failed; going on without it: %s", place, error_line(exc, typed=True))
        logger.debug("%s failed", place, exc_info=exc)
        self._publish(EventKind.ERROR, {"where": place, "message": error_line(exc, typed=True)})

    async def close(self) -> list[str]:
        """Cancel every task still running and wait (bounded) for them; returns the names of any that would not stop.

        Tasks spawned from now on are cancelled at once: nothing outlives the session.
        """
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if not tasks:
            return []
        _, pending = await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT_S)
        stuck = sorted(task.get_name() for task in pending)
        if stuck:
            logger.warning("tasks still running %g s after cancel: %s", CLOSE_TIMEOUT_S, ", ".join(stuck))
        return stuck
