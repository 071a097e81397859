"""One answer in the making: it waits for the heard turn, thinks (brain, sentences, TTS) and speaks once committed.

A response may start speculatively in a pause (preemptive); if the user goes on it is
cancelled before anything is heard. Production (compute) and speaking (playback) are
separate tasks so TTS of sentence n+1 overlaps playback of sentence n. Playback can be
paused (sound over the agent) and resumed from the word it stopped at (a false interruption).
"""
from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any, Protocol

import numpy as np

from agent.conversation.hearing import Listening, Utterance
from agent.conversation.phrases import Phrases
from agent.conversation.playback import ACKNOWLEDGEMENT, Item, Playback, Queued
from agent.conversation.record import TurnRecord
from agent.conversation.services import Services
from agent.media.sinks.players import Player
from agent.runtime.events import EventKind
from dialogue.types import BrainView, Trigger
from perception.types import TextCue, Transcript, VoiceCue
from speech.prosody import style_for
from speech.sentences import SentenceSplitter


class Host(Protocol):
    """What a response needs from the answers running it (they implement it; this module never imports them)."""

    services: Services
    player: Player
    phrases: Phrases
    """The acknowledgement said when the first sentence is late, and the trouble phrase when a step failed."""

    def brain_view(self, trigger: Trigger, utterance: Utterance | None) -> tuple[BrainView, dict[str, Any] | None]:
        """What the brain is asked with, and turns.json's ``cues`` (None when the turn brought no cues)."""

    def join(self, transcript: Transcript, audio: np.ndarray, cues: list[VoiceCue | TextCue]) -> None:
        """The user's words and cues join the history: the answer to them is about to be heard."""

    def on_started(self, response: Response, t: float) -> None: ...

    def on_finished(self, response: Response) -> None:
        """The turn is closed: what was heard of the answer joins the history, its record goes out."""


class Response:
    def __init__(self, host: Host, trigger: Trigger, listening: Listening | None = None,
                 think_early: bool = True) -> None:
        s = self.services = host.services
        self.host = host
        self.trigger = trigger
        self.think_early = think_early  # think before the commit (speculatively), unless load is being shed
        self.listening = listening
        self.pause_t = listening.pause_t if listening is not None else None
        self.record = TurnRecord(trigger="end_of_turn" if trigger == "preemptive" else trigger,
                                 user_start_s=listening.start if listening is not None else None,
                                 user_end_s=self.pause_t, preemptive=trigger == "preemptive",
                                 brain=s.models.brain.name)
        self.committed = asyncio.Event()
        self.transcript: Transcript | None = None
        self.utterance: Utterance | None = None
        self.transcribed = asyncio.Event()
        self.decided = asyncio.Event()
        self.playback = Playback(s, host.player)
        self._view: BrainView | None = None  # what the brain was asked with (the deadline's acknowledgement reads it)
        self._said_ack: str | None = None  # an acknowledgement the model was not told about
        self.emotion = "neutral"
        self.done = False
        self.stopped_at: float | None = None
        self._user_side_published = False
        s.activity.hold()  # released when production ends; keeps a fast replay from racing ahead
        self._holding = True
        self.producer = s.spawn(self._produce(), f"produce-{trigger}")
        self.producer.add_done_callback(lambda _: self._release())  # also when cancelled before it began
        self.speaker = s.spawn(self._speak(), f"speak-{trigger}")

    @property
    def heard(self) -> bool:
        """Some of it has been played."""
        return self.record.first_audio_s is not None

    # ---- production (compute) -------------------------------------------------------------------------------
    async def _produce(self) -> None:
        s = self.services
        try:
            if self.listening is not None:
                await self._hear(self.listening)
            self.transcribed.set()
            if not (s.config.policy.preemptive and self.think_early) and not self.committed.is_set():
                async with s.activity.paused():
                    await self.committed.wait()
            if "asr" in self.record.faults:
                self._say_trouble()
            else:
                await self._think()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let one turn kill the session: the user still hears something
            self._failed("response", exc)
            if not self.playback.queued:
                self._say_trouble()
        finally:
            self.decided.set()
            self.playback.close()
            self.transcribed.set()
            self._release()

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self.services.activity.release()

    async def _hear(self, listening: Listening) -> None:
        """The words first (speaking may begin once they are in), then the cues the brain reads with them."""
        self.transcript = await listening.words
        self.record.user_text = self.transcript.text
        self.transcribed.set()
        utterance = self.utterance = await listening.utterance
        record = self.record
        record.asr_start_s, record.asr_s, record.cues_s = utterance.asr_start_s, utterance.asr_s, utterance.cues_s
        record.faults.extend(f for f in utterance.faults if f not in record.faults)

    async def _think(self) -> None:
        s = self.services
        view, cues = self.host.brain_view(self.trigger, self.utterance)
        if cues is not None:
            self.record.cues = cues
        self._view = view
        splitter = SentenceSplitter(first_max_words=s.config.tts.first_clause_words or None)
        t0 = time.perf_counter()
        first_token = True
        broken = False
        source = self.record.brain
        stream = s.models.brain.respond(view)
        try:
            while True:
                try:  # a brain that stops streaming (hung) is abandoned like one that failed
                    async with asyncio.timeout(s.config.brain.timeout_s):
                        delta = await anext(stream)
                except StopAsyncIteration:
                    break
                if first_token:
                    self.record.brain_first_token_s = time.perf_counter() - t0
                    first_token = False
                if delta.note:
                    if delta.note.startswith("fallback:"):
                        self.record.fallback, source = delta.note, "fallback"
                    else:
                        self.record.notes.append(delta.note)
                    broken = broken or delta.note.startswith("error:")
                    s.publish(EventKind.BRAIN_NOTE, {"note": delta.note})
                if delta.acknowledgement:
                    ack = await self._acknowledgement(delta.acknowledgement.text, delta.acknowledgement.emotion, True)
                    if ack is not None:
                        self.playback.put(*ack)
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
                        await self._synthesize(sentence, t0, source)
            for sentence in [] if broken else splitter.flush():  # a sentence the brain broke off is not said
                await self._synthesize(sentence, t0, source)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed("brain", exc if not isinstance(exc, TimeoutError) else
                         TimeoutError(f"no reply for {s.config.brain.timeout_s:g} s (brain.timeout_s)"))
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()
        if not self.playback.queued and self.record.faults and self.record.decision in (None, "respond"):
            self._say_trouble()
        if self.record.decision is None:
            self.record.decision = "wait"
        self.decided.set()
        s.metrics.stage("brain_total", (time.perf_counter() - t0) * 1000)

    async def _synthesize(self, sentence: str, t_brain: float, source: str) -> None:
        if self.record.brain_first_sentence_s is None:
            self.record.brain_first_sentence_s = time.perf_counter() - t_brain
        if self._said_ack is not None and _same_words(sentence, self._said_ack):
            self._said_ack = None  # the model, not told of the acknowledgement, opened with it too
            return
        item = await self._tts(sentence, self.emotion)
        if item is not None:
            self.playback.put(item, source)

    async def _tts(self, sentence: str, emotion: str) -> Item | None:
        s = self.services
        t0 = time.perf_counter()
        try:
            item = await s.models.run("tts", s.models.synthesize, sentence, style_for(emotion, s.config.tts))
        except Exception as exc:  # this sentence is not said; the next may be
            self._failed("tts", exc)
            return None
        elapsed = time.perf_counter() - t0
        s.metrics.stage("tts", elapsed * 1000)
        if self.record.tts_first_audio_s is None:
            self.record.tts_first_audio_s = elapsed
        return item

    async def _acknowledgement(self, text: str, emotion: str, planned: bool) -> Queued | None:
        """An acknowledgement to say in front of the answer (the brain planned it, or the deadline passed)."""
        item = await self._tts(text, emotion)
        if item is None:
            return None
        self.record.acknowledgement = text
        self.services.publish(EventKind.ACKNOWLEDGEMENT, {"text": text, "emotion": emotion, "planned": planned})
        return item, ACKNOWLEDGEMENT

    def _failed(self, place: str, exc: BaseException) -> None:
        if place not in self.record.faults:
            self.record.faults.append(place)
        self.services.degraded(place, exc)

    def _say_trouble(self) -> None:
        """Hearing, thinking or speaking failed for this turn: say so, rather than leave the user in silence."""
        item = self.host.phrases.trouble()
        if item is None:
            return
        self.record.decision = "respond"
        self.record.fallback = self.record.fallback or f"trouble: {', '.join(self.record.faults)} failed"
        self.decided.set()
        self.playback.put(item, "trouble")

    # ---- commit and speaking ------------------------------------------------------------------------------------
    def commit(self, t: float) -> None:
        self.record.committed_s = t
        self.committed.set()

    async def _speak(self) -> None:
        await self.committed.wait()
        await self.transcribed.wait()
        deadline_ms = self.services.config.policy.first_sentence_deadline_ms
        queued: Queued | None
        try:
            async with asyncio.timeout(deadline_ms / 1000 if deadline_ms else None):
                queued = await self.playback.next()
        except TimeoutError:
            queued = await self._acknowledge()
        if queued is not None and queued[1] == ACKNOWLEDGEMENT:  # said at once: the answer is still being decided
            self._publish_user_side()
            await self._play(queued)
            queued = await self.playback.next()
        await self.decided.wait()
        self._publish_user_side()
        record = self.record
        self.services.publish(EventKind.DECISION, {"decision": record.decision, "emotion": record.agent_emotion,
                                                   "trigger": record.trigger, "brain": record.brain})
        await self._play_on(queued)

    async def _play_on(self, queued: Queued | None) -> None:
        while queued is not None:
            await self._play(queued)
            queued = await self.playback.next()
        self.finish(interrupted=False)

    async def _play(self, queued: Queued) -> None:
        start = self.playback.next_start()
        if self.record.first_audio_s is None:
            self.record.first_audio_s = start
            self.host.on_started(self, start)
        await self.playback.play(*queued, start, self.emotion)

    async def _acknowledge(self) -> Queued | None:
        """The latency budget ran out: a short acknowledgement that fits the mood, in front of the answer."""
        fitting = getattr(self.services.models.brain, "acknowledgement", None)
        ack = fitting(self._view) if fitting is not None and self._view is not None else None
        if ack is not None:
            self._said_ack = ack.text
            queued = await self._acknowledgement(ack.text, ack.emotion, planned=False)
            if queued is not None:
                return queued
        phrase = self.host.phrases.acknowledgement()
        if phrase is None:
            return await self.playback.next()
        self.record.acknowledgement = phrase[0].text
        self.services.publish(EventKind.ACKNOWLEDGEMENT, {"text": phrase[0].text, "emotion": "warm", "planned": False})
        return phrase, ACKNOWLEDGEMENT

    def pause(self) -> float:
        """Stop playback now and keep the unheard rest; returns the timeline time it stopped."""
        self.stopped_at = self.playback.stop()
        if not self.speaker.done():
            self.speaker.cancel()
        return self.stopped_at

    def resume(self) -> None:
        """Play on from the word the pause cut, then the sentences still to come."""
        rest = self.playback.take_rest()
        self.stopped_at = None
        self.speaker = self.services.spawn(self._resume(rest), f"resume-{self.trigger}")

    async def _resume(self, rest: Queued | None) -> None:
        await self._play_on(rest if rest is not None else await self.playback.next())

    def _publish_user_side(self) -> None:
        """The user's words and cues join the history once the answer to them is about to be heard."""
        if self._user_side_published:
            return
        self._user_side_published = True
        if self.transcript is not None and self.listening is not None:
            self.host.join(self.transcript, self.listening.audio, self.utterance.cues if self.utterance else [])

    def finish(self, interrupted: bool, stopped_at: float | None = None) -> None:
        """Close the turn: what was actually heard goes to the history, the record to the trace."""
        if self.done:
            return
        self.done = True
        self.record.interrupted = interrupted
        self.record.agent_text = self.playback.text(stopped_at if interrupted else None)
        self.record.parts = self.playback.parts(stopped_at if interrupted else None)
        self.host.on_finished(self)

    def cancel(self) -> None:
        if self.listening is not None:
            self.listening.cancel()
        for task in (self.producer, self.speaker):
            if not task.done():
                task.cancel()


def _same_words(a: str, b: str) -> bool:
    return re.sub(r"[^a-z' ]", "", a.lower()).split() == re.sub(r"[^a-z' ]", "", b.lower()).split()
