"""What the server tells its operator as it goes: one note per connection admitted, turned away or ended, and
per answered turn. The server only hands notes to an observer; the command line decides how they read."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Connected:
    peer: str       # host:port of the client
    session: str
    sessions: int   # conversations in progress, this one included
    capacity: int


@dataclass(frozen=True)
class TurnedAway:
    peer: str
    sessions: int
    capacity: int


@dataclass(frozen=True)
class Answered:
    peer: str
    session: str
    latency_ms: float | None  # voice to voice: the user's last word to the agent's first sound; None if unprompted
    emotion: str | None
    interrupted: bool


@dataclass(frozen=True)
class Disconnected:
    peer: str
    session: str
    sessions: int   # conversations still in progress
    capacity: int
    seconds: float
    answers: int
    how: str        # "client left", or the close code and reason the server sent


Note = Connected | TurnedAway | Answered | Disconnected
Observer = Callable[[Note], None]
