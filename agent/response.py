"""One answer in the making: transcript, cues, brain, sentences and TTS, played only once the turn is committed.

A response may start speculatively at silence onset (preemptive); if the user
goes on it is cancelled before anything is heard. Production (compute) and
speaking (playback) are separate tasks so TTS of sentence n+1 overlaps
playback of sentence n.
"""
from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from agent.turn import TurnRecord
from dialogue.types import DialogueTurn, Trigger
from perception.types import TextCue, Transcript, VoiceCue
from speech.prosody import style_for
from speech.sentences import SentenceSplitter
from speech.types import SpokenAudio

if TYPE_CHECKING:
    from agent.session import Session

logger = logging.getLogger(__name__)

_Item = tuple[SpokenAudio, np.ndarray]


class Response:
    def __init__(self, session: "Session", trigger: Trigger, audio: np.ndarray | None = None,
                 segment_start: float | None = None, pause_t: float | None = None) -> None:
        self.s = session
        self.trigger = trigger
        self.audio = audio
        self.pause_t = pause_t
        self.record = TurnRecord(trigger="end_of_turn" if trigger == "preemptive" else trigger,
                                 user_start_s=segment_start, user_end_s=pause_t,
                                 preemptive=trigger == "preemptive", brain=session.models.brain.name)
        self.committed = asyncio.Event()
        self.transcript: Transcript | None = None
        self.transcribed = asyncio.Event()
        self.decided = asyncio.Event()
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._played: list[tuple[str, float, float]] = []  # sentence, start, duration
        self._voice: VoiceCue | None = None
        self._words: TextCue | None = None
        self.emotion = "neutral"
        self.done = False
        session.activity.hold()  # released when production ends; keeps a fast replay from racing ahead
        self.producer = asyncio.get_running_loop().create_task(self._produce(), name=f"produce-{trigger}")
        self.speaker = asyncio.get_running_loop().create_task(self._speak(), name=f"speak-{trigger}")

    # ---- production (compute) -------------------------------------------------------------
    async def _produce(self) -> None:
        s = self.s
        try:
            if self.audio is not None and self.record.user_start_s is not None:
                await self._transcribe()
            else:
                self.transcribed.set()
            if not s.config.policy.preemptive and not self.committed.is_set():
                async with s.activity.paused():
                    await self.committed.wait()
            await self._think()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let one turn kill the session
            logger.exception("response failed")
            s.publish("error", {"where": "response", "message": f"{type(exc).__name__}: {exc}"})
            self.decided.set()
        finally:
            self._queue.put_nowait(None)
            self.transcribed.set()
            s.activity.release()

    async def _transcribe(self) -> None:
        s = self.s
        assert self.audio is not None and self.record.user_start_s is not None
        t0 = time.perf_counter()
        if self.pause_t is not None:
            self.record.asr_start_s = max(0.0, s.clock.now() - self.pause_t)
        offset = self.record.user_start_s - s.config.vad.pre_roll_ms / 1000.0
        self.transcript = await s.models.run("asr", s.models.transcriber.transcribe, self.audio, max(0.0, offset), True)
        self.record.asr_s = time.perf_counter() - t0
        s.metrics.stage("asr", self.record.asr_s * 1000)
        self.record.user_text = self.transcript.text
        self.transcribed.set()
        s.publish("transcript", {**_transcript_json(self.transcript), "final": False, "speculative": self.trigger == "preemptive"})
        t0 = time.perf_counter()
        end = self.pause_t or self.transcript.end
        self._voice = await s.models.run("cues", s.voice.analyze, self.audio, self.record.user_start_s, end,
                                         self.transcript.words, self.pause_t)
        self._words = await s.models.run("cues", s.sentiment.analyze, self.transcript.text, end)
        self.record.cues_s = time.perf_counter() - t0

    async def _think(self) -> None:
        s = self.s
        fusion = copy.deepcopy(s.fusion)  # what the state would be with this turn's cues, not yet committed
        emotion = None
        for cue in self._cues():
            emotion = fusion.add(cue)
        now = s.clock.now()
        view = s.context.view(now, "end_of_turn" if self.trigger == "preemptive" else self.trigger,
                              self.transcript, self.audio, emotion=emotion, voice=self._voice, text_cue=self._words,
                              silence_s=now - s.last_activity_t)
        if emotion is not None:
            self.record.cues = _cue_json(emotion, s.context.face)
        splitter = SentenceSplitter()
        t0 = time.perf_counter()
        first_token = True
        stream = s.models.brain.respond(view)
        try:
            async for delta in stream:
                if first_token:
                    self.record.brain_first_token_s = time.perf_counter() - t0
                    first_token = False
                if delta.note:
                    self.record.fallback = delta.note
                    s.publish("brain_note", {"note": delta.note})
                if delta.decision:
                    self.record.decision = delta.decision
                    self.decided.set()
                if delta.emotion:
                    self.emotion = delta.emotion
                    self.record.agent_emotion = delta.emotion
                if delta.text:
                    if self.record.decision is None:
                        self.record.decision = "respond"
                        self.decided.set()
                    for sentence in splitter.push(delta.text):
                        await self._synthesize(sentence, t0)
        finally:
            await stream.aclose()
        for sentence in splitter.flush():
            await self._synthesize(sentence, t0)
        if self.record.decision is None:
            self.record.decision = "wait"
        self.decided.set()
        s.metrics.stage("brain_total", (time.perf_counter() - t0) * 1000)

    async def _synthesize(self, sentence: str, t_brain: float) -> None:
        s = self.s
        if self.record.brain_first_sentence_s is None:
            self.record.brain_first_sentence_s = time.perf_counter() - t_brain
        style = style_for(self.emotion, s.config.tts)
        t0 = time.perf_counter()
        audio, pcm16k = await s.models.run("tts", s.models.synthesize, sentence, style)
        elapsed = time.perf_counter() - t0
        s.metrics.stage("tts", elapsed * 1000)
        if self.record.tts_first_audio_s is None:
            self.record.tts_first_audio_s = elapsed
        self._queue.put_nowait((audio, pcm16k))

    # ---- commit and speaking ----------------------------------------------------------------
    def commit(self, t: float) -> None:
        self.record.committed_s = t
        self.committed.set()

    async def _speak(self) -> None:
        s = self.s
        await self.committed.wait()
        await self.transcribed.wait()
        self._publish_user_side()
        deadline_ms = s.config.policy.first_sentence_deadline_ms
        item: _Item | None
        try:
            item = await asyncio.wait_for(self._queue.get(), deadline_ms / 1000) if deadline_ms else await self._queue.get()
        except asyncio.TimeoutError:
            item = await self._acknowledge()
        await self.decided.wait()
        s.publish("decision", {"decision": self.record.decision, "emotion": self.record.agent_emotion,
                               "trigger": self.record.trigger, "brain": self.record.brain})
        started = False
        while item is not None:
            audio, pcm16k = item
            await self._play(audio, pcm16k, first=not started)
            started = True
            item = await self._queue.get()
        self.finish(interrupted=False)

    async def _acknowledge(self) -> _Item | None:
        """The latency budget ran out: say a short acknowledgement while the answer is still coming."""
        s = self.s
        ack = s.acknowledgement()
        if ack is None:
            return await self._queue.get()
        self.record.acknowledged = True
        s.publish("acknowledgement", {"text": ack[0].text})
        await self._play(*ack, first=True)
        return await self._queue.get()

    async def _play(self, audio: SpokenAudio, pcm16k: np.ndarray, first: bool) -> float:
        s = self.s
        start_guess = max(s.clock.now(), s.player.busy_until)
        if first and self.record.first_audio_s is None:
            self.record.first_audio_s = start_guess
            s.on_agent_started(start_guess)
        self._played.append((audio.text, start_guess, len(pcm16k) / 16000))
        s.publish("agent_text", {"text": audio.text, "emotion": self.emotion, "start": round(start_guess, 3),
                                 "duration": round(len(pcm16k) / 16000, 3)}, t=start_guess)
        return await s.player.play(audio, pcm16k)

    def _publish_user_side(self) -> None:
        s = self.s
        if self.transcript is not None:
            s.publish("transcript", {**_transcript_json(self.transcript), "final": True})
            s.context.add_utterance(self.transcript, self.audio if self.audio is not None else np.zeros(0, np.int16))
            if self.transcript.text:
                s.context.add_turn(DialogueTurn("user", self.transcript.text, self.transcript.end))
        for cue in self._cues():
            s.add_cue(cue)

    def _cues(self) -> list[VoiceCue | TextCue]:
        return [c for c in (self._voice, self._words) if c is not None]

    def played_text(self, stopped_at: float | None) -> str:
        words: list[str] = []
        for text, start, duration in self._played:
            if stopped_at is None or stopped_at >= start + duration:
                words.extend(text.split())
            elif stopped_at > start:
                parts = text.split()
                heard = int(len(parts) * (stopped_at - start) / max(duration, 1e-6))
                words.extend(parts[:heard])
        return " ".join(words)

    def finish(self, interrupted: bool, stopped_at: float | None = None) -> None:
        """Close the turn: what was actually heard goes to the history, the record to the trace."""
        if self.done:
            return
        self.done = True
        s = self.s
        self.record.interrupted = interrupted
        self.record.agent_text = self.played_text(stopped_at if interrupted else None)
        if self.record.agent_text:
            s.context.add_turn(DialogueTurn("agent", self.record.agent_text, s.clock.now(),
                                            emotion=self.record.agent_emotion, interrupted=interrupted))
        s.on_response_finished(self)

    def cancel(self) -> None:
        for task in (self.producer, self.speaker):
            if not task.done():
                task.cancel()


def _transcript_json(tr: Transcript) -> dict[str, object]:
    return {"text": tr.text, "start": round(tr.start, 3), "end": round(tr.end, 3),
            "words": [{"w": w.text, "s": round(w.start, 3), "e": round(w.end, 3)} for w in tr.words]}


def _cue_json(emotion: object, face: object) -> dict[str, object]:
    from agent.events import to_jsonable

    e = to_jsonable(emotion)
    f = to_jsonable(face) if face is not None else {}
    return {
        "face_present": bool(f.get("face_present", False)) if f else False,
        "expression": f.get("expression") if f else None,
        "valence": e.get("valence"), "arousal": e.get("arousal"), "label": e.get("label"),
        "confidence": e.get("confidence"), "conflicts": e.get("conflicts"),
        "provenance": e.get("provenance"),
    }
