"""The server's guards: every bound on the memory or time one client can take."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from agent.config import ServerSettings

_SETTINGS = ServerSettings()


@dataclass(frozen=True)
class ServerLimits:
    """The server's guards; every one bounds memory or time clients can take. Operators set some in ``[server]``."""
    max_sessions: int = _SETTINGS.max_sessions
    allowed_hosts: tuple[str, ...] = _SETTINGS.allowed_hosts
    max_message_bytes: int = _SETTINGS.max_message_bytes
    max_image_side: int = _SETTINGS.max_image_side
    max_image_pixels: int = _SETTINGS.max_image_pixels
    messages_per_s: float = 120.0      # sustained; audio at 20 ms is 50/s, camera 5/s
    burst: int = 240
    idle_timeout_s: float = _SETTINGS.idle_timeout_s  # nothing received for this long → closed
    send_timeout_s: float = 5.0        # one write blocked this long → the client is dropped
    send_buffer_bytes: int = 4 * 1024 * 1024  # queued downstream bytes before the client counts as stalled
    max_audio_ahead_s: float = 2.0     # audio received faster than real time by this much → closed
    ready_timeout_s: float = 60.0      # session setup (TTS warm phrases) must finish within this
    shutdown_timeout_s: float = 3.0    # a closed connection's session gets this long to wind down, then is cancelled
    close_wait_s: float = 1.0          # a close frame not through in this long (a stalled socket) → TCP abort
    busy_retry_after_s: int = 30       # what a client turned away at capacity is told to wait

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> ServerLimits:
        return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)})
