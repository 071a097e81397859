"""What every part of one session shares: settings, models, the clock, metrics, in-flight work, tasks, events and the TurnTaker's entry."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable, Coroutine

from agent.config import Config
from agent.runtime.activity import Activity
from agent.runtime.clock import Clock
from agent.runtime.lanes import Models
from agent.runtime.metrics import Metrics
from agent.runtime.supervisor import Supervisor
from dialogue import turntaking as tt


@dataclass(frozen=True)
class Services:
    """Handed as one value to hearing, answers and responses, so none of them takes a dozen arguments."""

    config: Config
    models: Models
    clock: Clock
    metrics: Metrics
    activity: Activity
    supervisor: Supervisor
    publish: Callable[..., None]
    """Put an event on the session's bus: ``publish(kind, data=None, t=None)`` (t defaults to now)."""
    feed: Callable[[tt.Fact], None]
    """Give the TurnTaker a fact; the session executes the commands it answers with."""

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of this session: cancelled when it ends; a failure is reported, the session goes on."""
        return self.supervisor.spawn(coro, name or coro.__qualname__.rsplit(".", 1)[-1].lstrip("_"))

    def degraded(self, place: str, exc: BaseException) -> None:
        """A step failed and the turn goes on without it (reported once per place)."""
        self.supervisor.degraded(place, exc)
