"""The session's one answer at a time: prepared, committed, stopped, resumed or closed as the TurnTaker commands.

It is also the host a :class:`agent.conversation.response.Response` runs in: the models, clock,
player and context it uses, and the callbacks through which the answer's progress
(words heard, audio started, finished) goes back to the TurnTaker as facts.
"""
from __future__ import annotations

import asyncio
import copy
import time
from typing import Any, Callable, Coroutine

from agent.runtime.activity import Activity
from agent.runtime.clock import Clock
from agent.config import Config
from agent.conversation.context import RollingContext
from agent.runtime.events import EventKind
from agent.conversation.listener import Listener
from agent.runtime.metrics import Metrics
from agent.runtime.lanes import Models
from agent.conversation.phrases import Phrases
from agent.conversation.response import Item, Response
from agent.media.sinks.players import Player
from agent.runtime.supervisor import Supervisor
from dialogue import turns as tt
from dialogue.types import Trigger
from perception.fusion import EmotionFusion
from perception.incremental import IncrementalTranscriber
from perception.prosody import VoiceAnalyzer
from perception.sentiment import SentimentAnalyzer
from perception.types import EmotionState, FaceCue, TextCue, Transcript, VoiceCue


class Answers:
    def __init__(self, config: Config, models: Models, clock: Clock, player: Player, metrics: Metrics,
                 activity: Activity, context: RollingContext, fusion: EmotionFusion, listener: Listener,
                 publish: Callable[..., None], add_cue: Callable[[FaceCue | VoiceCue | TextCue], None],
                 feed: Callable[[tt.Fact], None], supervisor: Supervisor) -> None:
        self.config, self.models, self.clock, self.player = config, models, clock, player
        self.metrics, self.activity, self.context, self.fusion = metrics, activity, context, fusion
        self.listener = listener
        self.publish = publish
        self.add_cue = add_cue
        self._feed = feed
        self.supervisor = supervisor
        self.shed = False  # the CPU cannot keep up: no speculative thinking, no incremental transcription
        self.voice = VoiceAnalyzer(config.voice)
        self.sentiment = SentimentAnalyzer()
        self.phrases = Phrases()
        self.turn_count = 0  # the records go out as TURN events (turns.json); keeping them here only grew memory
        self.current: Response | None = None  # being prepared, committed, spoken or stopped
        self._overheard: dict[tuple[float, float], Transcript] = {}  # words said over the stopped agent, by span
        self._incremental: IncrementalTranscriber | None = None  # the turn being transcribed while it is spoken
        self._updating = False
        self._updated_at = 0.0

    # ---- commands ------------------------------------------------------------------------------------------------
    def prepare(self, trigger: Trigger, start: float, pause_t: float) -> Response:
        audio, t0 = self.listener.speech(start, pause_t)
        self.current = Response(self, trigger, audio, start, pause_t, self._overheard.pop((start, pause_t), None),
                                audio_t0=t0, think_early=not self.shed)
        return self.current

    def commit(self, start: float, pause_t: float, early: bool) -> None:
        response = self.current
        if response is None or response.pause_t != pause_t or response.committed.is_set():
            if response is not None:
                response.cancel()
            response = self.prepare("end_of_turn", start, pause_t)
        if early:
            self.metrics.count("early_endpoints")
        self.publish(EventKind.TURN_COMMITTED, {"start": start, "pause_t": pause_t, "early": early})
        response.commit(self.clock.now())

    def check_in(self, t: float) -> None:
        self.current = Response(self, "proactive")
        self.current.commit(t)

    def discard(self, reason: str, onset: float) -> None:
        response, self.current = self.current, None
        if response is None:
            return
        response.cancel()
        if response.heard:  # what was heard stays in the history, marked interrupted
            if response.stopped_at is None:
                self._announce_stop(onset, response.pause(), reason)
            response.finish(interrupted=True, stopped_at=response.stopped_at)
            return
        response.done = True
        kind = EventKind.RESPONSE_DROPPED if response.committed.is_set() else EventKind.PREEMPTIVE_DISCARDED
        self.metrics.count(kind.value)
        self.publish(kind, {"onset": onset, "pause_t": response.pause_t, "reason": reason})

    def stop(self, onset: float) -> None:
        response = self.current
        if response is not None and response.heard and response.stopped_at is None:
            self._announce_stop(onset, response.pause(), "user_speech")

    def _announce_stop(self, onset: float, stopped: float, reason: str) -> None:
        self.metrics.stage("barge_in_stop", (stopped - onset) * 1000)
        self.publish(EventKind.BARGE_IN, {"onset": onset, "stopped_at": stopped, "reason": reason,
                                          "stop_ms": (stopped - onset) * 1000})
        self.publish(EventKind.AGENT_SPEECH_ENDED, {"interrupted": True}, t=stopped)

    def resume(self, onset: float) -> None:
        response = self.current
        if response is None or response.stopped_at is None:
            return
        stopped = response.stopped_at
        response.resume()
        now = self.clock.now()
        self.metrics.count("false_interruptions_resumed")
        self.publish(EventKind.AGENT_RESUMED, {"onset": onset, "stopped_at": stopped, "resumed_at": now})
        self.publish(EventKind.AGENT_SPEECH_STARTED, None, t=max(now, self.player.busy_until))

    def listening(self, start: float | None, speaking: bool, now: float) -> None:
        """The user is talking: every ``asr.incremental_interval_s`` transcribe the turn so far, so at the pause
        only its tail is left (``asr.incremental``)."""
        settings = self.config.asr
        if not (settings.incremental and speaking and start is not None) or self._updating or self.shed:
            return
        audio, t0 = self.listener.speech(start, now)
        if self._incremental is None or self._incremental.t0 != t0:
            self._incremental = IncrementalTranscriber(self.models.transcriber, t0)
            self._updated_at = now
        if now - self._updated_at >= settings.incremental_interval_s:
            self._updating, self._updated_at = True, now
            self.spawn(self._update(self._incremental, audio))

    async def _update(self, incremental: IncrementalTranscriber, audio: Any) -> None:
        try:
            t0 = time.perf_counter()
            settled = len(incremental.kept)
            async with self.activity.busy():
                await self.models.run("asr", incremental.update, audio)
            self.metrics.stage("asr_incremental", (time.perf_counter() - t0) * 1000)
            if len(incremental.kept) > settled:
                self._prefetch(Transcript(incremental.settled_text, incremental.t0, incremental.cut))
        except Exception as exc:  # the whole turn is transcribed again at the pause
            self.degraded("asr", exc)
        finally:
            self._updating = False

    def transcribe(self, audio: Any, t0: float) -> Transcript:
        """A turn's words (blocking: the asr lane): only the tail after what was settled while it was spoken."""
        incremental = self._incremental
        if incremental is not None and incremental.t0 == t0:
            return incremental.finish(audio)
        return self.models.transcriber.transcribe(audio, t0, True)

    def transcribe_overheard(self, start: float, pause_t: float) -> None:
        self.spawn(self._transcribe_overheard(start, pause_t))

    async def _transcribe_overheard(self, start: float, pause_t: float) -> None:
        audio, offset = self.listener.speech(start, pause_t)
        try:
            async with self.activity.busy():
                transcript = await self.models.run("asr", self.models.transcriber.transcribe, audio, offset, True)
        except Exception as exc:
            self.degraded("asr", exc)
            self._feed(tt.Heard(pause_t, None))
            return
        self._overheard = {(start, pause_t): transcript}
        words = transcript.words
        self._feed(tt.Heard(pause_t, transcript.text, sum(w.probability for w in words) / len(words) if words else 1.0))

    def _prefetch(self, heard: Transcript | None) -> None:
        """Let the brain's engine read the conversation and the words settled so far while the user speaks."""
        prefetch = getattr(self.models.brain, "prefetch", None)
        if prefetch is not None:
            prefetch(self.context.view(self.clock.now(), "end_of_turn", heard))

    def backchannel(self) -> None:
        self.spawn(self._backchannel())

    async def _backchannel(self) -> None:
        """A short "mm-hm" while the user keeps talking; it does not take the turn."""
        item = self.phrases.backchannel()
        if item is not None:
            start = max(self.clock.now(), self.player.busy_until)
            self.metrics.count("backchannels")
            self.publish(EventKind.BACKCHANNEL, {"text": item[0].text, "duration": len(item[1]) / 16000}, t=start)
            await self.player.play(*item)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of this session: cancelled when it ends; a failure is reported, the session goes on."""
        return self.supervisor.spawn(coro, name or coro.__qualname__.rsplit(".", 1)[-1].lstrip("_"))

    def degraded(self, place: str, exc: BaseException) -> None:
        self.supervisor.degraded(place, exc)

    # ---- the responses' host -------------------------------------------------------------------------------------
    def emotion_with(self, cues: list[VoiceCue | TextCue]) -> EmotionState | None:
        fusion = copy.deepcopy(self.fusion)
        return [fusion.add(cue) for cue in cues][-1] if cues else None

    def acknowledgement(self) -> Item | None:
        return self.phrases.acknowledgement()

    def trouble(self) -> Item | None:
        return self.phrases.trouble()

    def silence_s(self, now: float) -> float:
        return now - self.listener.last_speech_t

    def on_heard(self, response: Response) -> None:
        if response is self.current and response.pause_t is not None and response.transcript is not None:
            self._feed(tt.Heard(response.pause_t, response.transcript.text))

    def on_started(self, response: Response, t: float) -> None:
        self.publish(EventKind.AGENT_SPEECH_STARTED, None, t=t)
        self._feed(tt.AgentStarted(t))

    def on_finished(self, response: Response) -> None:
        end = max(self.player.busy_until, self.clock.now())
        if not response.record.interrupted and response.heard:
            self.publish(EventKind.AGENT_SPEECH_ENDED, {"interrupted": False}, t=end)
            self.listener.last_speech_t = end
        if response is self.current:
            self.current = None
            self._feed(tt.AgentFinished(end, spoke=response.heard))
        self._prefetch(None)  # the answer joined the history (which may have been folded): read it before the next turn
        turn = response.record.to_json()
        self.turn_count += 1
        if turn["latency_ms"].get("voice_to_voice") is not None:
            self.metrics.stage("voice_to_voice", turn["latency_ms"]["voice_to_voice"])
        self.publish(EventKind.TURN, turn)
