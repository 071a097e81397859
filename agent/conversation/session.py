"""One conversation: the wiring that feeds perception's facts to the TurnTaker and executes its commands.

Every rule about *when* lives in :class:`dialogue.turntaking.TurnTaker`; the session only routes
media (the pump, the listener, the vision loop), lets :class:`Hearing` turn the user's audio into
words and cues, and carries out commands: prepare, commit, discard, stop, resume, backchannel, check in.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from agent.runtime.activity import Activity
from agent.conversation.answers import Answers
from agent.conversation.hearing import Hearing
from agent.conversation.services import Services
from agent.runtime.bus import EventBus, Observer
from agent.runtime.clock import Clock, MediaClock, WallClock
from agent.config import Config
from agent.conversation.context import RollingContext
from agent.runtime.cpu_wait import CpuWait
from agent.runtime.events import EventKind
from agent.conversation.listener import Listener
from agent.runtime.metrics import LoopLagMonitor, Metrics
from agent.runtime.lanes import Models
from agent.media.pump import MediaPump
from agent.media.sinks.players import Player, TimelinePlayer
from agent.runtime import shedding
from agent.runtime.shedding import LoadShedder
from agent.media.sinks.recording import ConversationRecorder
from agent.media.sources import Source
from agent.runtime.supervisor import Supervisor
from agent.conversation.vision_loop import VisionLoop
from dialogue import turntaking as tt
from dialogue.memory import DialogueMemory
from perception.fusion import EmotionFusion
from perception.types import FaceCue, TextCue, VoiceCue

logger = logging.getLogger(__name__)

_END_OF_TURN_EVERY_S = 0.15
"""How often a pause is re-scored by the end-of-turn model while the turn is undecided."""
_CUE_KINDS = {FaceCue: EventKind.FACE_CUE, VoiceCue: EventKind.VOICE_CUE, TextCue: EventKind.TEXT_CUE}


@dataclass(frozen=True)
class SessionResult:
    duration_s: float
    turns: int
    metrics: dict[str, Any]
    failure: str | None = None  # why the session ended early (a worker failed), in one line


class Session:
    def __init__(self, config: Config, models: Models, source: Source, *, clock: Clock | None = None,
                 player: Player | None = None, recorder: ConversationRecorder | None = None,
                 session_id: str = "", fast: bool = False) -> None:
        self.config, self.models, self.source, self.fast = config, models, source, fast
        self.clock: Clock = clock or (MediaClock() if fast else WallClock())
        self.player: Player = player or TimelinePlayer(self.clock, recorder)
        self.bus = EventBus(session_id)
        self.metrics = Metrics()
        self.supervisor = Supervisor(self.publish, self.metrics.count)
        if recorder is not None:  # a full disk ends the recording, never the conversation
            recorder.on_failure = lambda exc: self.supervisor.degraded("recorder", exc)
        self.metrics.load_s.update(models.load_s)
        self.lag = LoopLagMonitor(config.session.loop_lag_interval_ms)
        self.activity = Activity()
        self.turn_taker = tt.TurnTaker(
            config.policy, config.vad, speculate_after_ms=config.asr.speculative_delay_ms if config.asr.speculative else None,
            barge_in_ms=config.session.live_echo_guard_ms if source.live else None)
        self.fusion = EmotionFusion(config.fusion)
        count = getattr(models.brain, "count_tokens", None)
        self.context = RollingContext(config.context, DialogueMemory(config.brain.context_tokens, count, config.context.history_turns))
        self.pump = MediaPump(source, self.clock, self.activity, self.metrics, fast=fast,
                              audio_queue=config.session.audio_queue, video_queue=config.session.video_queue,
                              stall_s=config.session.source_stall_s)
        self.listener = Listener(config, models, self.metrics, self.publish, self.supervisor.degraded, recorder)
        services = Services(config, models, self.clock, self.metrics, self.activity, self.supervisor, self.publish,
                            self._feed)
        self.vision = VisionLoop(services, self.context, self.add_cue,
                                 deciding=lambda: self.turn_taker.agent_state in ("preparing", "committed"))
        self.hearing = Hearing(services, self.listener.audio, self.context)
        self.answers = Answers(services, self.player, self.hearing, self.listener, self.context, self.fusion,
                               self.add_cue)
        settings = config.session
        self.shedder = LoadShedder(settings.shed_video_ms, settings.shed_speculation_ms, settings.shed_video_cpu_wait,
                                   settings.shed_speculation_cpu_wait)
        self.cpu_wait = CpuWait()
        self._stop = asyncio.Event()

    # ---- public API -------------------------------------------------------------------------------------------
    def subscribe(self, observer: Observer) -> None:
        self.bus.subscribe(observer)

    def publish(self, kind: EventKind, data: Any = None, t: float | None = None) -> None:
        self.bus.publish(self.clock.now() if t is None else t, kind, data)

    def request_stop(self) -> None:
        self._stop.set()

    def stop_agent(self, reason: str = "client") -> None:
        """Stop speaking now (a stop button, a disconnect)."""
        self._feed(tt.StopRequest(self.clock.now(), reason))

    async def run(self) -> SessionResult:
        """Until the media ends, :meth:`request_stop`, or a worker fails (``failure`` then says why); never hangs."""
        self.lag.start()
        started = time.perf_counter()
        await self.answers.phrases.prepare(self.config, self.models, self.supervisor)
        if isinstance(self.clock, WallClock):
            self.clock.restart()  # media time 0 is when listening starts, not when setup began
        self.publish(EventKind.SESSION_STARTED, {"brain": self.models.brain.name, "fast": self.fast,
                                                  "audio": self.source.has_audio, "video": self.source.has_video})
        sup = self.supervisor
        main = sup.spawn(self._main(), "media", critical=True)
        sup.spawn(self._watch(), "clock", critical=True)
        ending = [asyncio.ensure_future(e.wait()) for e in (self._stop, sup.failed)]
        try:
            await asyncio.wait([main, *ending], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in ending:
                waiter.cancel()
            await sup.close()
            if self.answers.current is not None:
                self.answers.current.cancel()
                self.answers.current.finish(interrupted=True, stopped_at=self.clock.now())
            await self.source.aclose()
            await self.lag.stop()
        if sup.failure is not None:
            self.publish(EventKind.SESSION_FAILED, {"reason": sup.failure})
        turns = self.answers.turn_count
        self.publish(EventKind.SESSION_ENDED, {"turns": turns, "failure": sup.failure})
        self.metrics.stage("session_wall", (time.perf_counter() - started) * 1000)
        return SessionResult(self.clock.now(), turns, self.metrics.snapshot(self.lag.summary()), sup.failure)

    async def _main(self) -> None:
        sup = self.supervisor
        loops = [sup.spawn(self._audio_loop(), "audio", critical=True),
                 sup.spawn(self.vision.run(self.pump.video, self.activity), "video", critical=True)]
        await self.pump.run(self._stop)
        await asyncio.gather(*loops)
        await self._drain()

    async def _audio_loop(self) -> None:
        while (chunk := await self.pump.audio.get()) is not None:
            try:
                for fact in await self.listener.hear(chunk, self.clock.now()):
                    self._feed(fact)
                end = chunk.t + chunk.duration
                if not self.fast:
                    self._shed(end, late_ms=(self.clock.now() - end) * 1000)
                self.hearing.listening(self.turn_taker.turn_start, self.turn_taker.user_speaking, end)
            finally:
                self.activity.release()
        for fact in self.listener.flush(self.pump.media_end, self.clock.now()):
            self._feed(fact)

    def _shed(self, t: float, late_ms: float | None = None, cpu_wait: float | None = None) -> None:
        level = self.shedder.update(t, late_ms, cpu_wait)
        if level is None:
            return
        self.vision.shed = level >= shedding.NO_VIDEO
        self.answers.shed = self.hearing.shed = level >= shedding.NO_SPECULATION
        self.metrics.count(f"load_shedding_{shedding.LEVEL_NAMES[level].replace(' ', '_')}")
        late, wait = self.shedder.late_ms, self.shedder.wait
        logger.info("audio %.0f ms late, CPU wait %.2f: load shedding now %s", late, wait, shedding.LEVEL_NAMES[level])
        self.publish(EventKind.LOAD_SHEDDING, {"level": level, "state": shedding.LEVEL_NAMES[level], "late_ms": late,
                                               "cpu_wait": wait})

    def add_cue(self, cue: FaceCue | VoiceCue | TextCue) -> None:
        self.publish(_CUE_KINDS[type(cue)], cue, t=cue.t)
        if isinstance(cue, FaceCue) and cue.face_present:
            self._feed(tt.FaceSignal(cue.t, nod=cue.nod, gaze_away=cue.gaze_away, mouth_open=cue.mouth_open))
        self.context.add_cue(cue)
        state = self.fusion.add(cue)
        self.context.add_cue(state)
        self.publish(EventKind.EMOTION_STATE, state, t=state.t)

    # ---- commands ------------------------------------------------------------------------------------------------
    def _feed(self, fact: tt.Fact) -> None:
        answers = self.answers
        for command in self.turn_taker.feed(fact):
            match command:
                case tt.Speculate(start, pause_t):
                    answers.prepare("preemptive", self.hearing.utterance(start, pause_t, speculative=True))
                    self.supervisor.spawn(self._check_end_of_turn(start, pause_t), "check_end_of_turn")
                case tt.Commit(start, pause_t, early):
                    fresh = None if answers.holds(pause_t) else self.hearing.utterance(start, pause_t, speculative=False)
                    answers.commit(start, pause_t, early, fresh)
                case tt.Discard(reason, onset):
                    answers.discard(reason, onset)
                case tt.StopAgent(onset):
                    answers.stop(onset)
                case tt.ResumeAgent(onset):
                    answers.resume(onset)
                case tt.Transcribe(start, pause_t):
                    self.hearing.overheard(start, pause_t)
                case tt.Backchannel():
                    answers.backchannel()
                case tt.CheckIn(t):
                    answers.check_in(t)
                case tt.OverlapIgnored(onset, end, kind):
                    self.metrics.count(f"overlaps_ignored_{kind}")
                    self.publish(EventKind.OVERLAP_IGNORED, {"onset": onset, "end": end, "kind": kind}, t=end)

    async def _check_end_of_turn(self, start: float, pause_t: float) -> None:
        """Score the pause with the acoustic model until the turn ends or the user goes on."""
        while self.turn_taker.pause_t == pause_t and self.turn_taker.agent_state == "preparing":
            async with self.activity.busy():
                score = await self.listener.end_of_turn(start, self.clock.now())
            if score is None:
                return
            self._feed(tt.EndOfTurnScore(pause_t, score))
            await self.clock.sleep_until(self.clock.now() + _END_OF_TURN_EVERY_S)

    # ---- time ------------------------------------------------------------------------------------------------------
    async def _watch(self) -> None:
        """The TurnTaker's clock between audio chunks (check-ins, backchannels), and memory sampling."""
        while True:
            await self.clock.sleep_until(self.clock.now() + 0.25)
            self.metrics.sample_rss()
            if not self.fast:
                self._shed(self.clock.now(), cpu_wait=self.cpu_wait.sample())
            self._tick()

    def _tick(self) -> None:
        now = self.clock.now()
        self._feed(tt.Tick(now, self.fusion.state(now).valence))

    async def _drain(self) -> None:
        """After the media ends: let the open turn end and the last answer finish (a fast replay moves the clock on)."""
        limit = self.clock.now() + self.config.policy.hold_ms / 1000.0 + 1.0
        while self.answers.current is not None or (self.turn_taker.turn_start is not None and self.clock.now() < limit):
            response = self.answers.current
            if self.fast:
                await self.activity.idle()
                assert isinstance(self.clock, MediaClock)
                self.clock.advance(max(self.clock.now() + 0.05, self.player.busy_until + 0.01 if response else 0.0))
            self._tick()
            if response is None:
                await asyncio.sleep(0 if self.fast else 0.05)
                continue
            await asyncio.wait({response.speaker}, timeout=0.05)
            if response.speaker.done() and not response.done and response.stopped_at is None:
                response.finish(interrupted=False)
        if self.fast and isinstance(self.clock, MediaClock):
            self.clock.advance(max(self.clock.now(), self.player.busy_until))
