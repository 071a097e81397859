"""Audio in: the recording, the user's recent audio, the VAD and each chunk's loudness and voicing, as turn-taking facts."""
from __future__ import annotations

import time
from typing import Callable

from agent.config import Config
from agent.runtime.events import EventKind
from agent.media.chunks import AudioChunk
from agent.runtime.metrics import Metrics
from agent.runtime.lanes import Models
from agent.media.sinks.recording import ConversationRecorder
from agent.runtime.supervisor import SessionFailure
from floor import error_line
from agent.conversation.user_audio import UserAudio
from dialogue import turntaking as tt
from perception.prosody import frame_voicing
from perception.types import SilenceStarted, SpeechEnded, SpeechResumed, SpeechStarted
from perception.vad import Vad

_VOICING_S = 0.04
"""Audio judged for voicing at each chunk (one prosody frame)."""
_DEAF_S = 1.0
"""The VAD failing on this much audio in a row leaves the session deaf: it ends (SessionFailure)."""

Publish = Callable[..., None]
Degraded = Callable[[str, BaseException], None]


class Listener:
    """Feed chunks in time order with :meth:`hear`; :attr:`audio` keeps them, to cut out a turn for the recognizer."""

    def __init__(self, config: Config, models: Models, metrics: Metrics, publish: Publish, degraded: Degraded,
                 recorder: ConversationRecorder | None = None) -> None:
        self.config = config
        self.models = models
        self.metrics = metrics
        self.publish = publish
        self.degraded = degraded
        self.recorder = recorder
        self.vad = Vad(config.vad, models.vad)
        self.audio = UserAudio(config.vad.max_turn_s + 10.0, config.vad.pre_roll_ms / 1000.0)
        self.last_speech_t = 0.0
        self._deaf_since: float | None = None  # the VAD has failed on every chunk since then

    async def hear(self, chunk: AudioChunk, now: float) -> list[tt.Fact]:
        """The VAD's speech facts for ``chunk`` (dated when they happened), then the chunk's own :class:`Sound`.

        A chunk the VAD fails on counts as silence; failing for ``_DEAF_S`` of audio in a row ends the session.
        """
        if self.recorder is not None:
            self.recorder.user(chunk.t, chunk.pcm)
        self.audio.append(chunk.t, chunk.pcm)
        end = chunk.t + chunk.duration
        frame = self.audio.slice(end - _VOICING_S, end)
        t0 = time.perf_counter()
        try:
            events, (level, voiced) = await self.models.run(
                "vad", lambda: (self.vad.feed(chunk.pcm, chunk.t), frame_voicing(frame)))
        except Exception as exc:
            self.degraded("vad", exc)
            self._deaf_since = chunk.t if self._deaf_since is None else self._deaf_since
            if end - self._deaf_since >= _DEAF_S:
                raise SessionFailure(f"the VAD failed on {end - self._deaf_since:.1f} s of audio in a row: "
                                     f"{error_line(exc)}") from exc
            return []
        self._deaf_since = None
        self.metrics.stage("vad", (time.perf_counter() - t0) * 1000)
        facts = [self._fact(event, now) for event in events]
        return facts + [tt.Sound(chunk.t, chunk.duration, self.vad.last_probability, level, voiced)]

    def flush(self, t: float, now: float) -> list[tt.Fact]:
        """The media ended at ``t``: close what the VAD has open."""
        return [self._fact(event, now) for event in self.vad.flush(t)]

    async def end_of_turn(self, start: float, now: float) -> float | None:
        """The acoustic end-of-turn model's probability that the turn from ``start`` to ``now`` is complete."""
        model = self.models.end_of_turn
        if model is None:
            return None
        audio, _ = self.audio.turn(start, now)
        t0 = time.perf_counter()
        try:
            score = await self.models.run("end_of_turn", model.score, audio)
        except Exception as exc:  # the pause and the words decide alone
            self.degraded("end_of_turn", exc)
            return None
        self.metrics.stage("end_of_turn", (time.perf_counter() - t0) * 1000)
        return score

    def _fact(self, event: object, now: float) -> tt.Fact:
        self.last_speech_t = now
        if isinstance(event, SpeechStarted):
            self.publish(EventKind.SPEECH_STARTED, {"detected_at": now}, t=event.t)
            return tt.SpeechStart(event.t)
        if isinstance(event, SilenceStarted):
            self.publish(EventKind.SILENCE_STARTED, {"segment_start": event.segment_start}, t=event.t)
            return tt.SpeechPause(event.t)
        if isinstance(event, SpeechResumed):
            self.publish(EventKind.SPEECH_RESUMED, None, t=event.t)
            return tt.SpeechResume(event.t)
        assert isinstance(event, SpeechEnded)
        self.publish(EventKind.SPEECH_ENDED, {"start": event.start, "detected_at": now}, t=event.end)
        return tt.SpeechEnd(event.end)
