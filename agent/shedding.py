"""Load shedding: how much optional work to drop, from how late the audio is handled (pure, clock-free).

When the CPU cannot keep up, hearing the user must not fall behind. Work goes in a stated
order: face analysis first (level 1), then speculative answers and incremental
transcription (level 2; answers are then prepared once the turn has ended). The level
rises as soon as the audio is handled late by a threshold, and falls one step only after
``recover_s`` of audio handled well inside it (half the threshold), so it does not flap.
"""
from __future__ import annotations

from dataclasses import dataclass

NORMAL, NO_VIDEO, NO_SPECULATION = 0, 1, 2
LEVEL_NAMES = {NORMAL: "normal", NO_VIDEO: "video shed", NO_SPECULATION: "video and speculation shed"}


@dataclass
class LoadShedder:
    video_ms: float
    speculation_ms: float
    recover_s: float = 1.0
    level: int = NORMAL
    _calm_since: float | None = None

    def update(self, t: float, late_ms: float) -> int | None:
        """Audio chunk ending at ``t`` was handled ``late_ms`` after it was recorded; returns the new level if it changed."""
        wanted = NO_SPECULATION if late_ms >= self.speculation_ms else NO_VIDEO if late_ms >= self.video_ms else NORMAL
        if wanted > self.level:
            self.level, self._calm_since = wanted, None
            return wanted
        calm = late_ms < (self.video_ms if self.level == NO_VIDEO else self.speculation_ms) / 2
        if self.level == NORMAL or not calm:
            self._calm_since = None
            return None
        if self._calm_since is None:
            self._calm_since = t
            return None
        if t - self._calm_since >= self.recover_s:
            self.level, self._calm_since = self.level - 1, None
            return self.level
        return None
