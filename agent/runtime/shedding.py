"""Load shedding: how much optional work to drop when the CPU cannot keep up (pure, clock-free).

Two signals say so: audio handled late (the user is not being heard in time), and CPU wait,
the average number of this process's threads kept waiting for a core (another process takes
the machine; smoothed over ``smooth_s``, since our own bursts make short spikes). Work goes in
a stated order: face analysis first (level 1), then speculative answers and incremental
transcription (level 2; answers are then prepared once the turn has ended). The level rises as
soon as a signal crosses a threshold, and falls one step only after ``recover_s`` with both well
inside it (half the threshold), so it does not flap.
"""
from __future__ import annotations

from dataclasses import dataclass

NORMAL, NO_VIDEO, NO_SPECULATION = 0, 1, 2
LEVEL_NAMES = {NORMAL: "normal", NO_VIDEO: "video shed", NO_SPECULATION: "video and speculation shed"}


@dataclass
class LoadShedder:
    video_ms: float
    speculation_ms: float
    video_wait: float
    speculation_wait: float
    smooth_s: float = 2.0
    recover_s: float = 5.0  # shedding video is what frees the CPU: come back slowly, or it flaps
    level: int = NORMAL
    late_ms: float = 0.0
    wait: float = 0.0  # smoothed CPU wait
    _calm_since: float | None = None
    _wait_t: float | None = None

    def update(self, t: float, late_ms: float | None = None, cpu_wait: float | None = None) -> int | None:
        """At ``t``: audio was handled ``late_ms`` late, and/or ``cpu_wait`` threads waited on average since the last
        reading; returns the new level if it changed."""
        if late_ms is not None:
            self.late_ms = late_ms
        if cpu_wait is not None:
            if self._wait_t is not None:  # the first reading only starts the clock: its span is unknown
                self.wait += min(1.0, max(0.0, t - self._wait_t) / self.smooth_s) * (cpu_wait - self.wait)
            self._wait_t = t
        wanted = max(self._wanted(self.late_ms, self.video_ms, self.speculation_ms),
                     self._wanted(self.wait, self.video_wait, self.speculation_wait))
        if wanted > self.level:
            self.level, self._calm_since = wanted, None
            return wanted
        at = {NO_VIDEO: 0, NO_SPECULATION: 1}.get(self.level)
        calm = at is not None and (self.late_ms < (self.video_ms, self.speculation_ms)[at] / 2
                                   and self.wait < (self.video_wait, self.speculation_wait)[at] / 2)
        if not calm:
            self._calm_since = None
            return None
        if self._calm_since is None:
            self._calm_since = t
            return None
        if t - self._calm_since >= self.recover_s:
            self.level, self._calm_since = self.level - 1, None
            return self.level
        return None

    @staticmethod
    def _wanted(value: float, video: float, speculation: float) -> int:
        return NO_SPECULATION if value >= speculation else NO_VIDEO if value >= video else NORMAL
