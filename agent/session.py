"""One conversation: sources feed perception, the turn policy asks the brain, speech answers, observers watch.

Stages are asyncio tasks joined by bounded queues (audio is never dropped;
the oldest video frame is). Every model call runs in one of the models' lanes;
the loop only routes. In a fast replay the media clock advances only when
the pipeline is quiet, so the timeline is the same on any machine.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.activity import Activity
from agent.bus import EventBus, Observer
from agent.clock import Clock, MediaClock, WallClock
from agent.config import Config
from agent.context import KeyframeSelector, RollingContext
from agent.media import AudioChunk, VideoFrame
from agent.metrics import LoopLagMonitor, Metrics
from agent.models import Models
from agent.response import Response
from agent.sinks.players import Player, TimelinePlayer
from agent.sinks.recording import ConversationRecorder
from agent.sources import Source
from dialogue.memory import DialogueMemory
from dialogue.policy import Endpointing, TurnPolicy, TurnState
from perception.fusion import EmotionFusion
from perception.prosody import VoiceAnalyzer
from perception.sentiment import SentimentAnalyzer
from perception.types import (FaceCue, SilenceStarted, SpeechEnded, SpeechResumed, SpeechStarted, TextCue,
                              VoiceCue)
from perception.vad import Vad
from perception.vision import FaceAnalyzer
from speech.prosody import style_for
from speech.types import SpokenAudio

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionResult:
    duration_s: float
    turns: int
    metrics: dict[str, Any]


class Session:
    def __init__(self, config: Config, models: Models, source: Source, *, clock: Clock | None = None,
                 player: Player | None = None, recorder: ConversationRecorder | None = None,
                 session_id: str = "", fast: bool = False) -> None:
        self.config = config
        self.models = models
        self.source = source
        self.fast = fast
        self.clock: Clock = clock or (MediaClock() if fast else WallClock())
        self.recorder = recorder
        self.player: Player = player or TimelinePlayer(self.clock, recorder)
        self.bus = EventBus(session_id)
        self.metrics = Metrics()
        self.metrics.load_s.update(models.load_s)
        self.lag = LoopLagMonitor(config.session.loop_lag_interval_ms)
        self.activity = Activity()
        self.policy = TurnPolicy(config.policy)
        self.endpointing = Endpointing(config.vad.end_of_turn_silence_ms, config.policy.fast_endpoint_ms)
        self.vad = Vad(config.vad)
        self.voice = VoiceAnalyzer(config.voice)
        self.sentiment = SentimentAnalyzer()
        self.fusion = EmotionFusion(config.fusion)
        self.faces = FaceAnalyzer(config.vision, config.face, config.expression) if config.vision.enabled else None
        self.keyframes = KeyframeSelector(config.context)
        count = getattr(models.brain, "count_tokens", None)
        self.context = RollingContext(config.context, DialogueMemory(config.brain.context_tokens, count, config.context.history_turns))
        self.turns: list[dict[str, Any]] = []
        self.last_activity_t = 0.0
        self._audio_q: asyncio.Queue[AudioChunk | None] = asyncio.Queue(maxsize=config.session.audio_queue)
        self._video_q: asyncio.Queue[VideoFrame | None] = asyncio.Queue(maxsize=config.session.video_queue)
        self._response: Response | None = None        # the one being produced or spoken
        self._pause: SilenceStarted | None = None      # the pause the user is in now, if any
        self._committed_pause: float | None = None     # pause onset of a turn ended early by endpointing
        self._turn_floor = 0.0                         # audio before this belongs to an earlier, answered turn
        self._pending_barge: float | None = None       # onset of user speech heard over the agent
        self._echo_start: float | None = None          # live: a VAD turn that began while the agent spoke
        self._checked_in = False
        self._next_frame_t = 0.0
        self._stop = asyncio.Event()
        self._ack_cache: list[tuple[SpokenAudio, np.ndarray]] = []
        self._backchannels: list[tuple[SpokenAudio, np.ndarray]] = []
        self._speech_since: float | None = None        # start of the user's current stretch of speech
        self._last_backchannel = -1e9
        self._media_end = 0.0

    # ---- public API -------------------------------------------------------------------------
    def subscribe(self, observer: Observer) -> None:
        self.bus.subscribe(observer)

    def publish(self, kind: str, data: Any = None, t: float | None = None) -> None:
        self.bus.publish(self.clock.now() if t is None else t, kind, data)

    def request_stop(self) -> None:
        self._stop.set()

    def stop_agent(self, reason: str = "client") -> None:
        """Barge-in by request (e.g. a stop button): stop speaking now."""
        if self._response is not None and self.policy.is_barge_in():
            self._barge_in(self.clock.now(), reason)

    async def run(self) -> SessionResult:
        self.lag.start()
        started = time.perf_counter()
        await self._prepare_acknowledgements()
        if isinstance(self.clock, WallClock):
            self.clock.restart()  # media time 0 is when listening starts, not when setup began
        self.publish("session_started", {"brain": self.models.brain.name, "fast": self.fast,
                                         "audio": self.source.has_audio, "video": self.source.has_video})
        tasks = [asyncio.create_task(self._audio_loop(), name="audio"),
                 asyncio.create_task(self._video_loop(), name="video"),
                 asyncio.create_task(self._watch(), name="watch")]
        try:
            await self._pump()
            await self._audio_q.put(None)
            await self._video_q.put(None)
            await asyncio.gather(*tasks[:2])
            await self._drain()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._response is not None:
                self._response.cancel()
                self._response.finish(interrupted=True, stopped_at=self.clock.now())
            await self.source.aclose()
            await self.lag.stop()
        self.publish("session_ended", {"turns": len(self.turns)})
        self.metrics.stage("session_wall", (time.perf_counter() - started) * 1000)
        return SessionResult(self.clock.now(), len(self.turns), self.metrics.snapshot(self.lag.summary()))

    # ---- media in ----------------------------------------------------------------------------
    async def _pump(self) -> None:
        stream = self.source.stream()
        try:
            async for item in stream:
                if self._stop.is_set():
                    break
                if isinstance(item, AudioChunk):
                    end = item.t + item.duration
                    if not self.fast and not self.source.live:
                        await self.clock.sleep_until(end)
                    self.activity.hold()
                    await self._audio_q.put(item)
                    self._media_end = max(self._media_end, end)
                else:
                    if not self.fast and not self.source.live:
                        await self.clock.sleep_until(item.t)
                    if self._video_q.full():  # stale frames go first, never audio
                        dropped = self._video_q.get_nowait()
                        if dropped is not None:
                            self.activity.release()
                        self.metrics.count("video_frames_dropped")
                    self.activity.hold()
                    self._video_q.put_nowait(item)
                    self._media_end = max(self._media_end, item.t)
                if self.fast:
                    await self.activity.idle()
                    assert isinstance(self.clock, MediaClock)
                    self.clock.advance(self._media_end)
        finally:
            await stream.aclose()

    async def _audio_loop(self) -> None:
        while (chunk := await self._audio_q.get()) is not None:
            try:
                if self.recorder is not None:
                    self.recorder.user(chunk.t, chunk.pcm)
                t0 = time.perf_counter()
                events = await self.models.run("vad", self.vad.feed, chunk.pcm, chunk.t)
                self.metrics.stage("vad", (time.perf_counter() - t0) * 1000)
                for event in events:
                    self._on_vad(event)
                self._watch_barge_in(chunk)
            finally:
                self.activity.release()
        for event in self.vad.flush(self._media_end):
            self._on_vad(event)

    async def _video_loop(self) -> None:
        period = 1.0 / self.config.vision.sample_fps
        while (frame := await self._video_q.get()) is not None:
            try:
                if self.faces is None or frame.t < self._next_frame_t:
                    continue
                self._next_frame_t = frame.t + period
                t0 = time.perf_counter()
                cue = await self.models.run("vision", self.faces.analyze, frame.image, frame.t)
                self.metrics.stage("face", (time.perf_counter() - t0) * 1000)
                self.publish("face_cue", cue, t=frame.t)
                self.add_cue(cue)
                if self.keyframes.wants(frame.image, frame.t):
                    keyframe = await self.models.run("vision", self.keyframes.encode, frame.image, frame.t)
                    self.context.add_keyframe(keyframe)
                    self.publish("keyframe", keyframe, t=frame.t)
            except (ValueError, RuntimeError) as exc:
                self.metrics.count("video_frames_failed")
                logger.warning("frame at %.2fs skipped: %s", frame.t, exc)
            finally:
                self.activity.release()

    def add_cue(self, cue: FaceCue | VoiceCue | TextCue) -> None:
        self.context.add_cue(cue)
        if not isinstance(cue, FaceCue):  # face cues are published as they are made
            self.publish("voice_cue" if isinstance(cue, VoiceCue) else "text_cue", cue, t=cue.t)
        state = self.fusion.add(cue)
        self.context.add_cue(state)
        self.publish("emotion_state", state, t=state.t)

    # ---- turn-taking -------------------------------------------------------------------------
    def _on_vad(self, event: object) -> None:
        now = self.clock.now()
        if isinstance(event, SpeechStarted):
            self.publish("speech_started", {"detected_at": round(now, 3)}, t=event.t)
            self._pause = None
            self.last_activity_t = now
            self._speech_since = event.t
            self._checked_in = False
            if self.source.live and self.policy.state is TurnState.SPEAKING:
                self._echo_start = event.t  # maybe our own voice: only sustained speech counts (see _watch_barge_in)
                return
            if self.policy.is_barge_in():
                self._barge_in(event.t, "user_speech")
            self._committed_pause = None
            self.policy.signal("user_started")
        elif isinstance(event, SilenceStarted):
            self.publish("silence_started", {"segment_start": round(event.segment_start, 3)}, t=event.t)
            self._speech_since = None
            if self._echo_start == event.segment_start:
                return
            self._pause = event
            if self.config.asr.speculative and self._response is None:
                asyncio.get_running_loop().create_task(self._speculate(event))
        elif isinstance(event, SpeechResumed):
            self.publish("speech_resumed", None, t=event.t)
            self._pause = None
            self.last_activity_t = now
            self._speech_since = event.t
            response = self._response
            if response is not None and not response.committed.is_set():
                response.cancel()
                self._response = None
                self.metrics.count("preemptive_discarded")
                self.publish("preemptive_discarded", {"pause_t": response.pause_t})
            elif self._committed_pause is not None:  # ended early, but the user went on
                if self._barge_in(event.t, "user_continued"):  # what was answered stays answered
                    self._turn_floor = max(self._turn_floor, event.t - self.config.vad.pre_roll_ms / 1000.0)
                self._committed_pause = None
                self.policy.signal("user_started")
        elif isinstance(event, SpeechEnded):
            self.publish("speech_ended", {"start": round(event.start, 3), "detected_at": round(now, 3)}, t=event.end)
            self._pause = None
            self.last_activity_t = now
            self._speech_since = None
            if self._echo_start == event.start:
                self._echo_start = None
                self.metrics.count("echo_turns_ignored")
                self.publish("echo_ignored", {"start": round(event.start, 3)}, t=event.end)
                return
            if self._committed_pause is not None and abs(self._committed_pause - event.end) < 1e-6:
                self._committed_pause = None
                return
            response = self._response
            if response is None or response.committed.is_set() or response.pause_t != event.end:
                if response is not None and not response.committed.is_set():
                    response.cancel()
                start, audio = self._slice(event.start, event.audio)
                response = Response(self, "end_of_turn", audio, start, event.end)
                self._response = response
            self._commit(response, now)

    async def _speculate(self, pause: SilenceStarted) -> None:
        """Once the pause has lasted ``asr.speculative_delay_ms``, start the answer on what was said so far.

        The short wait skips the VAD's momentary dips inside words, each of which would otherwise cost a
        wasted transcription that the real one then queues behind.
        """
        await self.clock.sleep_until(pause.t + self.config.asr.speculative_delay_ms / 1000.0)
        if self._pause is not pause or self._response is not None:
            return
        start, audio = self._slice(pause.segment_start, pause.audio)
        self._response = Response(self, "preemptive", audio, start, pause.t)
        await self._endpoint_early(self._response)

    def _slice(self, start: float, audio: np.ndarray) -> tuple[float, np.ndarray]:
        """Drop audio that belongs to an already answered part of the same VAD turn."""
        pre = self.config.vad.pre_roll_ms / 1000.0
        audio_t0 = start - pre
        if self._turn_floor > audio_t0:
            skip = int((self._turn_floor - audio_t0) * 16000)
            return self._turn_floor + pre, audio[min(skip, len(audio)):]
        return start, audio

    async def _endpoint_early(self, response: Response) -> None:
        """End the turn after a short pause when the speculative transcript is a complete sentence."""
        await response.transcribed.wait()
        if response.transcript is None or response.pause_t is None:
            return
        needed = self.endpointing.pause_needed_ms(response.transcript.text)
        if needed >= self.config.vad.end_of_turn_silence_ms:
            return
        await self.clock.sleep_until(response.pause_t + needed / 1000.0)
        if self._response is response and not response.committed.is_set() and self.vad.in_speech:
            self._committed_pause = response.pause_t
            self.metrics.count("early_endpoints")
            self._commit(response, self.clock.now())

    def _commit(self, response: Response, now: float) -> None:
        self.policy.signal("turn_ended")
        self.publish("turn_committed", {"pause_t": response.pause_t, "early": self._committed_pause is not None})
        response.commit(now)

    def _barge_in(self, onset: float, reason: str) -> bool:
        """The user speaks while the agent answers: stop at once. Returns whether any answer had been heard."""
        response = self._response
        self._pending_barge = None
        if response is None:
            return False
        response.cancel()
        stopped = self.player.stop()
        first = response.record.first_audio_s
        if first is None or stopped - first < 0.05:
            # Nothing was heard yet: the user simply was not done. Drop the answer; the turn goes on.
            self._response = None
            response.done = True
            self.policy.signal("no_reply")
            self.metrics.count("responses_dropped")
            self.publish("response_dropped", {"onset": round(onset, 3), "pause_t": response.pause_t, "reason": reason})
            return False
        self.publish("barge_in", {"onset": round(onset, 3), "stopped_at": round(stopped, 3), "reason": reason,
                                  "stop_ms": round((stopped - onset) * 1000, 1)})
        self.publish("agent_speech_ended", {"interrupted": True}, t=stopped)
        response.finish(interrupted=True, stopped_at=stopped)
        return True

    def _watch_barge_in(self, chunk: AudioChunk) -> None:
        """Stop the agent as soon as the user has spoken ``policy.barge_in_ms`` over it.

        This runs ahead of the VAD's own speech start (which waits ``vad.min_speech_ms``) so the agent
        yields quickly. Live, the agent's voice may echo into the microphone, so there the speech must
        be sustained for ``session.live_echo_guard_ms`` instead.
        """
        if self.policy.state is not TurnState.SPEAKING:
            self._pending_barge = None
            return
        if self.vad.last_probability < self.config.vad.threshold:
            self._pending_barge = None
            return
        if self._pending_barge is None:
            self._pending_barge = chunk.t
        needed = self.config.session.live_echo_guard_ms if self.source.live else self.config.policy.barge_in_ms
        if chunk.t + chunk.duration - self._pending_barge >= needed / 1000.0:
            onset = self._pending_barge
            if self._barge_in(onset, "user_speech") and self._committed_pause is not None:
                self._turn_floor = max(self._turn_floor, onset - self.config.vad.pre_roll_ms / 1000.0)
            self._echo_start = None
            self.policy.signal("user_started")

    def on_agent_started(self, t: float) -> None:
        self.policy.signal("agent_started")
        self.publish("agent_speech_started", None, t=t)

    def on_response_finished(self, response: Response) -> None:
        record = response.record
        if not record.interrupted and record.first_audio_s is not None:
            end = max(self.player.busy_until, self.clock.now())
            self.publish("agent_speech_ended", {"interrupted": False}, t=end)
            self.last_activity_t = end
        if response is self._response:
            self._response = None
            self.policy.signal("agent_finished" if record.first_audio_s is not None else "no_reply")
        turn = record.to_json()
        self.turns.append(turn)
        latency = turn["latency_ms"]
        if latency.get("voice_to_voice") is not None:
            self.metrics.stage("voice_to_voice", latency["voice_to_voice"])
        self.publish("turn", turn)

    async def _watch(self) -> None:
        """Timers on the timeline: the proactive check-in after a long negative silence, backchannels."""
        while True:
            await self.clock.sleep_until(self.clock.now() + 0.25)
            now = self.clock.now()
            self.metrics.sample_rss()
            state = self.fusion.state(now)
            since = self._speech_since
            if (since is not None and self._response is None and self._backchannels
                    and self.policy.wants_backchannel(now - max(since, self._last_backchannel))):
                self._last_backchannel = now
                asyncio.get_running_loop().create_task(self._backchannel())
            if self._response is None and self.policy.wants_check_in(now - self.last_activity_t, state.valence, self._checked_in):
                self._checked_in = True
                self.policy.signal("proactive")
                response = Response(self, "proactive")
                self._response = response
                response.commit(now)

    async def _drain(self) -> None:
        """After the media ends: let the last answer finish (a fast replay moves the clock on for it)."""
        while self._response is not None:
            response = self._response
            if self.fast:
                await self.activity.idle()
                assert isinstance(self.clock, MediaClock)
                self.clock.advance(max(self.clock.now(), self.player.busy_until) + 0.01)
            await asyncio.wait({response.speaker}, timeout=0.05)
            if response.speaker.done() and not response.done:
                response.finish(interrupted=False)
        if self.fast and isinstance(self.clock, MediaClock):
            self.clock.advance(max(self.clock.now(), self.player.busy_until))

    async def _backchannel(self) -> None:
        """A short "mm-hm" while the user keeps talking; it does not take the turn."""
        audio, pcm16k = self._backchannels[0]
        self._backchannels.append(self._backchannels.pop(0))
        start = max(self.clock.now(), self.player.busy_until)
        self.metrics.count("backchannels")
        self.publish("backchannel", {"text": audio.text, "duration": round(len(pcm16k) / 16000, 3)}, t=start)
        await self.player.play(audio, pcm16k)

    # ---- short phrases, synthesized once ------------------------------------------------------------
    async def _prepare_acknowledgements(self) -> None:
        policy = self.config.policy
        phrases = [(self._ack_cache, p) for p in policy.acknowledgements if policy.first_sentence_deadline_ms]
        phrases += [(self._backchannels, p) for p in policy.backchannel_phrases if policy.backchannel_after_s > 0]
        style = style_for("warm", self.config.tts)
        for cache, phrase in phrases:
            cache.append(await self.models.run("tts", self.models.synthesize, phrase, style))

    def acknowledgement(self) -> tuple[SpokenAudio, np.ndarray] | None:
        if not self._ack_cache:
            return None
        self._ack_cache.append(self._ack_cache.pop(0))
        return self._ack_cache[-1]

