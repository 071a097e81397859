"""The session's one answer at a time: prepared, committed, stopped, resumed or closed as the TurnTaker commands.

It is also the host a :class:`agent.conversation.response.Response` runs in: the player and
phrases it speaks with, the view the brain is asked with, the history its turn joins, and the
facts of its playback (started, finished) that go back to the TurnTaker. The user's words and
cues come from :class:`agent.conversation.hearing.Hearing`; an answer only thinks and speaks.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from agent.conversation.context import RollingContext
from agent.conversation.hearing import Hearing, Listening, Utterance, transcript_json
from agent.conversation.listener import Listener
from agent.conversation.phrases import Phrases
from agent.conversation.response import Response
from agent.conversation.services import Services
from agent.media.sinks.players import Player
from agent.runtime.events import EventKind, to_jsonable
from dialogue import turntaking as tt
from dialogue.types import BrainView, DialogueTurn, Trigger
from floor import SAMPLE_RATE
from perception.fusion import EmotionFusion
from perception.types import EmotionState, FaceCue, TextCue, Transcript, VoiceCue


class Answers:
    def __init__(self, services: Services, player: Player, hearing: Hearing, listener: Listener,
                 context: RollingContext, fusion: EmotionFusion,
                 add_cue: Callable[[FaceCue | VoiceCue | TextCue], None]) -> None:
        self.services, self.player, self.hearing, self.listener = services, player, hearing, listener
        self.context, self.fusion, self.add_cue = context, fusion, add_cue
        self.shed = False  # the CPU cannot keep up: no speculative thinking
        self.phrases = Phrases()
        self.turn_count = 0  # the records go out as TURN events (turns.json); keeping them here only grew memory
        self.current: Response | None = None  # being prepared, committed, spoken or stopped

    # ---- commands ------------------------------------------------------------------------------------------------
    def prepare(self, trigger: Trigger, listening: Listening) -> Response:
        """Start thinking about the turn being heard (Hearing heard it; the answer never asks for it)."""
        self.current = Response(self, trigger, listening, think_early=not self.shed)
        return self.current

    def holds(self, pause_t: float) -> bool:
        """Whether the answer being prepared is for the pause at ``pause_t`` (a commit then needs no new hearing)."""
        response = self.current
        return response is not None and response.pause_t == pause_t and not response.committed.is_set()

    def commit(self, start: float, pause_t: float, early: bool, fresh: Listening | None = None) -> None:
        """Speak the answer to the turn ending at ``pause_t``: the prepared one, or one to ``fresh`` (the turn heard
        anew when nothing was prepared for this pause; a speculation for another pause is dropped)."""
        response = self.current
        if fresh is not None:
            if response is not None:
                response.cancel()
            response = self.prepare("end_of_turn", fresh)
        elif not self.holds(pause_t):
            raise ValueError(f"no answer prepared for the pause at {pause_t:.3f} s and no fresh hearing of it")
        s = self.services
        if early:
            s.metrics.count("early_endpoints")
        s.publish(EventKind.TURN_COMMITTED, {"start": start, "pause_t": pause_t, "early": early})
        response.commit(s.clock.now())

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
        self.services.metrics.count(kind.value)
        self.services.publish(kind, {"onset": onset, "pause_t": response.pause_t, "reason": reason})

    def stop(self, onset: float) -> None:
        response = self.current
        if response is not None and response.heard and response.stopped_at is None:
            self._announce_stop(onset, response.pause(), "user_speech")

    def _announce_stop(self, onset: float, stopped: float, reason: str) -> None:
        s = self.services
        s.metrics.stage("barge_in_stop", (stopped - onset) * 1000)
        s.publish(EventKind.BARGE_IN, {"onset": onset, "stopped_at": stopped, "reason": reason,
                                       "stop_ms": (stopped - onset) * 1000})
        s.publish(EventKind.AGENT_SPEECH_ENDED, {"interrupted": True}, t=stopped)

    def resume(self, onset: float) -> None:
        response = self.current
        if response is None or response.stopped_at is None:
            return
        stopped = response.stopped_at
        response.resume()
        s = self.services
        now = s.clock.now()
        s.metrics.count("false_interruptions_resumed")
        s.publish(EventKind.AGENT_RESUMED, {"onset": onset, "stopped_at": stopped, "resumed_at": now})
        s.publish(EventKind.AGENT_SPEECH_STARTED, None, t=max(now, self.player.busy_until))

    def backchannel(self) -> None:
        self.services.spawn(self._backchannel())

    async def _backchannel(self) -> None:
        """A short "mm-hm" while the user keeps talking; it does not take the turn."""
        item = self.phrases.backchannel()
        if item is not None:
            s = self.services
            start = max(s.clock.now(), self.player.busy_until)
            s.metrics.count("backchannels")
            s.publish(EventKind.BACKCHANNEL, {"text": item[0].text, "duration": len(item[1]) / SAMPLE_RATE}, t=start)
            await self.player.play(*item)

    # ---- the responses' host -------------------------------------------------------------------------------------
    def brain_view(self, trigger: Trigger, utterance: Utterance | None) -> tuple[BrainView, dict[str, Any] | None]:
        cues = utterance.cues if utterance is not None else []
        emotion = self._emotion_with(cues) if cues else None
        now = self.services.clock.now()
        u = utterance
        view = self.context.view(now, "end_of_turn" if trigger == "preemptive" else trigger,
                                 u.transcript if u else None, u.audio if u else None, emotion=emotion,
                                 voice=u.voice if u else None, text_cue=u.words if u else None,
                                 silence_s=now - self.listener.last_speech_t)
        return view, _cue_json(emotion, self.context.face) if emotion is not None else None

    def _emotion_with(self, cues: list[VoiceCue | TextCue]) -> EmotionState:
        """The fused state as it would be with this turn's cues (not yet committed to the session)."""
        fusion = copy.deepcopy(self.fusion)
        return [fusion.add(cue) for cue in cues][-1]

    def join(self, transcript: Transcript, audio: np.ndarray, cues: list[VoiceCue | TextCue]) -> None:
        self.services.publish(EventKind.TRANSCRIPT, {**transcript_json(transcript), "final": True})
        self.context.add_utterance(transcript, audio)
        if transcript.text:
            self.context.add_turn(DialogueTurn("user", transcript.text, transcript.end))
        for cue in cues:
            self.add_cue(cue)

    def on_started(self, response: Response, t: float) -> None:
        self.services.publish(EventKind.AGENT_SPEECH_STARTED, None, t=t)
        self.services.feed(tt.AgentStarted(t))

    def on_finished(self, response: Response) -> None:
        s = self.services
        record = response.record
        if record.agent_text:
            self.context.add_turn(DialogueTurn("agent", record.agent_text, s.clock.now(), emotion=record.agent_emotion,
                                               interrupted=record.interrupted))
        end = max(self.player.busy_until, s.clock.now())
        if not record.interrupted and response.heard:
            s.publish(EventKind.AGENT_SPEECH_ENDED, {"interrupted": False}, t=end)
            self.listener.last_speech_t = end
        if response is self.current:
            self.current = None
            s.feed(tt.AgentFinished(end, spoke=response.heard))
        self.hearing.prefetch(None)  # the answer joined the history (which may have been folded): read it first
        turn = record.to_json()
        self.turn_count += 1
        if turn["latency_ms"].get("voice_to_voice") is not None:
            s.metrics.stage("voice_to_voice", turn["latency_ms"]["voice_to_voice"])
        s.publish(EventKind.TURN, turn)


def _cue_json(emotion: EmotionState, face: FaceCue | None) -> dict[str, object]:
    """turns.json's ``cues``: every field of the fused state, and what the face showed."""
    return {"face_present": bool(face is not None and face.face_present),
            "expression": face.expression if face is not None else None,
            **{k: v for k, v in to_jsonable(emotion).items() if k != "t"}}
