"""Sources: where a session's audio and video come from (a media file, a microphone, a camera, a socket)."""
from __future__ import annotations

from typing import AsyncIterator, Protocol

from agent.media.chunks import AudioChunk, VideoFrame


class SourceError(RuntimeError):
    """A source cannot deliver media; the message names the culprit (file, device)."""


class Source(Protocol):
    """Yields media in time order; ``live`` sources are paced by the world, replays by the session."""

    live: bool
    has_audio: bool
    has_video: bool

    def stream(self) -> AsyncIterator[AudioChunk | VideoFrame]:
        ...

    async def aclose(self) -> None:
        ...
