"""Video in: face and expression cues at the sampled frame rate, and keyframes for the brain, all off the loop.

While a turn is being decided (from the pause to the answer's first audio) frames are skipped: on two
cores a face analysis beside the transcription and the end-of-turn model would delay the answer.
"""
from __future__ import annotations

import asyncio
import time
from typing import Callable

from agent.runtime.activity import Activity
from agent.conversation.context import KeyframeSelector, RollingContext
from agent.conversation.services import Services
from agent.runtime.events import EventKind
from agent.media.chunks import VideoFrame
from perception.types import FaceCue
from perception.vision import FaceAnalyzer


class VisionLoop:
    def __init__(self, services: Services, context: RollingContext, add_cue: Callable[[FaceCue], None],
                 deciding: Callable[[], bool] = lambda: False) -> None:
        self.services = services
        self.config = services.config
        self.models = services.models
        self.metrics = services.metrics
        self.context = context
        self.add_cue = add_cue
        self.deciding = deciding
        self.shed = False  # the CPU cannot keep up: face analysis is the first work to go
        self.faces: FaceAnalyzer | None = None  # built off the loop at the first frame, dropped when the session ends
        self.keyframes = KeyframeSelector(services.config.context)
        self._next_t = 0.0

    async def run(self, frames: asyncio.Queue[VideoFrame | None], activity: Activity) -> None:
        """Until the end marker (None); each frame's hold on ``activity`` is released once it is handled."""
        try:
            while (frame := await frames.get()) is not None:
                try:
                    await self._see(frame)
                except Exception as exc:  # this frame gives no cue; the next one may
                    self.metrics.count("video_frames_failed")
                    self.services.degraded("vision", exc)
                finally:
                    activity.release()
        finally:
            self.faces = None  # its model files close now, not whenever the session is collected

    async def _see(self, frame: VideoFrame) -> None:
        if not self.config.vision.enabled or frame.t < self._next_t:
            return
        if self.deciding():  # the answer's critical path (ASR, end of turn, brain, TTS) has the CPU first
            self.metrics.count("video_frames_deferred")
            return
        if self.shed:
            self.metrics.count("video_frames_shed")
            return
        self._next_t = frame.t + 1.0 / self.config.vision.sample_fps
        if self.faces is None:  # at the first frame, off the loop: an audio-only source never pays for it
            config = self.config
            self.faces = await asyncio.to_thread(FaceAnalyzer, config.vision, config.face, config.expression)
        t0 = time.perf_counter()
        cue = await self.models.run("vision", self.faces.analyze, frame.image, frame.t)
        self.metrics.stage("face", (time.perf_counter() - t0) * 1000)
        self.add_cue(cue)
        if self.keyframes.wants(frame.image, frame.t):
            keyframe = await self.models.run("vision", self.keyframes.encode, frame.image, frame.t)
            self.context.add_keyframe(keyframe)
            self.services.publish(EventKind.KEYFRAME, keyframe, t=frame.t)
