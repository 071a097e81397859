"""The event bus: one uniform stream of events, fanned out to observers that stages never see."""
from __future__ import annotations

import logging
from typing import Callable

from agent.runtime.events import Event, EventKind

logger = logging.getLogger(__name__)

Observer = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out; observers must be quick (buffer I/O, never block)."""

    def __init__(self, session: str = "") -> None:
        self.session = session
        self._observers: list[Observer] = []

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def publish(self, t: float, kind: EventKind, data: object = None) -> Event:
        event = Event(t=t, kind=kind, data=data, session=self.session)
        for observer in tuple(self._observers):
            try:
                observer(event)
            except Exception as exc:  # an observer's failure must not stop the session
                logger.error("observer %r failed on %s: %s: %s", observer, kind.value, type(exc).__name__, exc)
                logger.debug("observer failure", exc_info=exc)
        return event
