"""One answer in the making: transcript, cues, brain, sentences and TTS; played once committed, paused and resumed on overlaps.

A response may start speculatively in a pause (preemptive); if the user goes on it is
cancelled before anything is heard. Production (compute) and speaking (playback) are
separate tasks so TTS of sentence n+1 overlaps playback of sentence n. Playback can be
paused (sound over the agent) and resumed from the word it stopped at (a false interruption).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import Any, Coroutine, Protocol

import numpy as np

from agent.runtime.activity import Activity
from agent.runtime.clock import Clock
from agent.config import Config
from agent.conversation.context import RollingContext
from agent.runtime.events import EventKind, to_jsonable
from agent.runtime.metrics import Metrics
from agent.runtime.lanes import Models
from agent.media.sinks.players import Player
from agent.runtime.supervisor import SessionFailure, one_line
from agent.conversation.record import TurnRecord
from dialogue.types import BrainView, DialogueTurn, Trigger
from perception.prosody import VoiceAnalyzer
from perception.sentiment import SentimentAnalyzer
from perception.types import EmotionState, FaceCue, TextCue, Transcript, VoiceCue
from speech.prosody import style_for
from speech.sentences import SentenceSplitter
from speech.types import SpokenAudio

logger = logging.getLogger(__name__)

Item = tuple[SpokenAudio, np.ndarray]
"""A synthesized sentence and its 16 kHz copy."""
Queued = tuple[Item, str]
"""A sentence to play and where its words came from: the brain's name, "fallback", "acknowledgement", "trouble"."""
ACKNOWLEDGEMENT = "acknowledgement"


class Host(Protocol):
    """What a response needs from the session running it (the session implements it; this module never imports it)."""

    config: Config
    models: Models
    clock: Clock
    player: Player
    metrics: Metrics
    activity: Activity
    context: RollingContext
    voice: VoiceAnalyzer
    sentiment: SentimentAnalyzer

    def publish(self, kind: EventKind, data: Any = None, t: float | None = None) -> None: ...

    def emotion_with(self, cues: list[VoiceCue | TextCue]) -> EmotionState | None:
        """The fused state as it would be with this turn's cues (not yet committed to the session)."""

    def add_cue(self, cue: VoiceCue | TextCue) -> None: ...

    def transcribe(self, audio: np.ndarray, t0: float) -> Transcript:
        """The turn's words (blocking; run in the asr lane)."""

    def acknowledgement(self) -> Item | None: ...

    def trouble(self) -> Item | None:
        """What to say when this turn's hearing, thinking or speaking failed (prepared at start)."""

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        """Run a task that belongs to the session (cancelled when it ends)."""

    def degraded(self, place: str, exc: BaseException) -> None:
        """A step failed and the turn goes on without it (reported once per place)."""

    def silence_s(self, now: float) -> float: ...

    def on_heard(self, response: "Response") -> None: ...

    def on_started(self, response: "Response", t: float) -> None: ...

    def on_finished(self, response: "Response") -> None: ...


class Response:
    def __init__(self, host: Host, trigger: Trigger, audio: np.ndarray | None = None,
                 segment_start: float | None = None, pause_t: float | None = None,
                 transcript: Transcript | None = None, audio_t0: float = 0.0, think_early: bool = True) -> None:
        self.host = host
        self.audio_t0 = audio_t0  # where ``audio`` starts on the timeline (the turn's start less the pre-roll)
        self.trigger = trigger
        self.think_early = think_early  # think before the commit (speculatively), unless load is being shed
        self.audio = audio
        self.pause_t = pause_t
        self.record = TurnRecord(trigger="end_of_turn" if trigger == "preemptive" else trigger,
                                 user_start_s=segment_start, user_end_s=pause_t,
                                 preemptive=trigger == "preemptive", brain=host.models.brain.name)
        self.committed = asyncio.Event()
        self.transcript = transcript
        self.transcribed = asyncio.Event()
        self.decided = asyncio.Event()
        self._queue: asyncio.Queue[Queued | None] = asyncio.Queue()
        self._queued = 0  # sentences queued for playback
        self._played: list[tuple[str, float, float, str]] = []  # sentence (heard part), start, duration, source
        self._current: tuple[SpokenAudio, np.ndarray, float] | None = None  # playing now, and since when
        self._playing: asyncio.Future[float] | None = None  # the player's task for the current sentence
        self._rest: Queued | None = None  # the unheard rest of the sentence a pause cut
        self._view: BrainView | None = None  # what the brain was asked with (the deadline's acknowledgement reads it)
        self._said_ack: str | None = None  # an acknowledgement the model was not told about
        self._voice: VoiceCue | None = None
        self._words: TextCue | None = None
        self.emotion = "neutral"
        self.done = False
        self.stopped_at: float | None = None
        self._user_side_published = False
        host.activity.hold()  # released when production ends; keeps a fast replay from racing ahead
        self.producer = host.spawn(self._produce(), f"produce-{trigger}")
        self.speaker = host.spawn(self._speak(), f"speak-{trigger}")

    @property
    def heard(self) -> bool:
        """Some of it has been played."""
        return self.record.first_audio_s is not None

    # ---- production (compute) -------------------------------------------------------------------------------
    async def _produce(self) -> None:
        h = self.host
        try:
            if self.audio is not None and self.record.user_start_s is not None:
                await self._transcribe()
            self.transcribed.set()
            if not (h.config.policy.preemptive and self.think_early) and not self.committed.is_set():
                async with h.activity.paused():
                    await self.committed.wait()
            if "asr" in self.record.faults:
                self._say_trouble()
            else:
                await self._think()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let one turn kill the session: the user still hears something
            self._failed("response", exc)
            if not self._queued:
                self._say_trouble()
        finally:
            self.decided.set()
            self._queue.put_nowait(None)
            self.transcribed.set()
            h.activity.release()

    async def _transcribe(self) -> None:
        h = self.host
        assert self.audio is not None and self.record.user_start_s is not None
        if self.transcript is None:
            t0 = time.perf_counter()
            if self.pause_t is not None:
                self.record.asr_start_s = max(0.0, h.clock.now() - self.pause_t)
            try:
                self.transcript = await h.models.run("asr", h.transcribe, self.audio, self.audio_t0)
            except Exception as exc:
                self._failed("asr", exc)
                self.transcript = Transcript("", self.record.user_start_s, self.pause_t or self.record.user_start_s)
            self.record.asr_s = time.perf_counter() - t0
            h.metrics.stage("asr", self.record.asr_s * 1000)
        else:
            self.record.asr_start_s = self.record.asr_s = 0.0
        self.record.user_text = self.transcript.text
        self.transcribed.set()
        h.publish(EventKind.TRANSCRIPT, {**_transcript_json(self.transcript), "final": False,
                                         "speculative": self.trigger == "preemptive"})
        h.on_heard(self)
        t0 = time.perf_counter()
        end = self.pause_t or self.transcript.end
        try:
            self._voice = await h.models.run("cues", h.voice.analyze, self.audio, self.record.user_start_s, end,
                                             self.transcript.words, self.pause_t)
            self._words = await h.models.run("cues", h.sentiment.analyze, self.transcript.text, end)
        except Exception as exc:  # the brain answers the words without the voice and text cues
            self._failed("cues", exc)
        self.record.cues_s = time.perf_counter() - t0

    async def _think(self) -> None:
        h = self.host
        emotion = h.emotion_with(self._cues()) if self._cues() else None
        now = h.clock.now()
        view = h.context.view(now, "end_of_turn" if self.trigger == "preemptive" else self.trigger,
                              self.transcript, self.audio, emotion=emotion, voice=self._voice, text_cue=self._words,
                              silence_s=h.silence_s(now))
        if emotion is not None:
            self.record.cues = _cue_json(emotion, h.context.face)
        self._view = view
        splitter = SentenceSplitter(first_max_words=h.config.tts.first_clause_words or None)
        t0 = time.perf_counter()
        first_token = True
        broken = False
        source = self.record.brain
        stream = h.models.brain.respond(view)
        try:
            while True:
                try:  # a brain that stops streaming (hung) is abandoned like one that failed
                    async with asyncio.timeout(h.config.brain.timeout_s):
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
                    h.publish(EventKind.BRAIN_NOTE, {"note": delta.note})
                if delta.acknowledgement:
                    ack = await self._acknowledgement(delta.acknowledgement.text, delta.acknowledgement.emotion, True)
                    if ack is not None:
                        self._enqueue(*ack)
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
                         TimeoutError(f"no reply for {h.config.brain.timeout_s:g} s (brain.timeout_s)"))
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()
        if not self._queued and self.record.faults and self.record.decision in (None, "respond"):
            self._say_trouble()
        if self.record.decision is None:
            self.record.decision = "wait"
        self.decided.set()
        h.metrics.stage("brain_total", (time.perf_counter() - t0) * 1000)

    async def _synthesize(self, sentence: str, t_brain: float, source: str) -> None:
        h = self.host
        if self.record.brain_first_sentence_s is None:
            self.record.brain_first_sentence_s = time.perf_counter() - t_brain
        if self._said_ack is not None and _same_words(sentence, self._said_ack):
            self._said_ack = None  # the model, not told of the acknowledgement, opened with it too
            return
        item = await self._tts(sentence, self.emotion)
        if item is not None:
            self._enqueue(item, source)

    async def _tts(self, sentence: str, emotion: str) -> Item | None:
        h = self.host
        t0 = time.perf_counter()
        try:
            item = await h.models.run("tts", h.models.synthesize, sentence, style_for(emotion, h.config.tts))
        except Exception as exc:  # this sentence is not said; the next may be
            self._failed("tts", exc)
            return None
        elapsed = time.perf_counter() - t0
        h.metrics.stage("tts", elapsed * 1000)
        if self.record.tts_first_audio_s is None:
            self.record.tts_first_audio_s = elapsed
        return item

    async def _acknowledgement(self, text: str, emotion: str, planned: bool) -> Queued | None:
        """An acknowledgement to say in front of the answer (the brain planned it, or the deadline passed)."""
        item = await self._tts(text, emotion)
        if item is None:
            return None
        self.record.acknowledgement = text
        self.host.publish(EventKind.ACKNOWLEDGEMENT, {"text": text, "emotion": emotion, "planned": planned})
        return item, ACKNOWLEDGEMENT

    def _enqueue(self, item: Item, source: str) -> None:
        self._queued += 1
        self._queue.put_nowait((item, source))

    def _failed(self, place: str, exc: BaseException) -> None:
        if place not in self.record.faults:
            self.record.faults.append(place)
        self.host.degraded(place, exc)

    def _say_trouble(self) -> None:
        """Hearing, thinking or speaking failed for this turn: say so, rather than leave the user in silence."""
        item = self.host.trouble()
        if item is None:
            return
        self.record.decision = "respond"
        self.record.fallback = self.record.fallback or f"trouble: {', '.join(self.record.faults)} failed"
        self.decided.set()
        self._enqueue(item, "trouble")

    # ---- commit and speaking ------------------------------------------------------------------------------------
    def commit(self, t: float) -> None:
        self.record.committed_s = t
        self.committed.set()

    async def _speak(self) -> None:
        h = self.host
        await self.committed.wait()
        await self.transcribed.wait()
        deadline_ms = h.config.policy.first_sentence_deadline_ms
        queued: Queued | None
        try:
            async with asyncio.timeout(deadline_ms / 1000 if deadline_ms else None):
                queued = await self._queue.get()
        except TimeoutError:
            queued = await self._acknowledge()
        if queued is not None and queued[1] == ACKNOWLEDGEMENT:  # said at once: the answer is still being decided
            self._publish_user_side()
            await self._play(*queued)
            queued = await self._queue.get()
        await self.decided.wait()
        self._publish_user_side()
        h.publish(EventKind.DECISION, {"decision": self.record.decision, "emotion": self.record.agent_emotion,
                                       "trigger": self.record.trigger, "brain": self.record.brain})
        await self._play_on(queued)

    async def _play_on(self, queued: Queued | None) -> None:
        while queued is not None:
            await self._play(*queued)
            queued = await self._queue.get()
        self.finish(interrupted=False)

    async def _acknowledge(self) -> Queued | None:
        """The latency budget ran out: a short acknowledgement that fits the mood, in front of the answer."""
        h = self.host
        fitting = getattr(h.models.brain, "acknowledgement", None)
        ack = fitting(self._view) if fitting is not None and self._view is not None else None
        if ack is not None:
            self._said_ack = ack.text
            queued = await self._acknowledgement(ack.text, ack.emotion, planned=False)
            if queued is not None:
                return queued
        phrase = h.acknowledgement()
        if phrase is None:
            return await self._queue.get()
        self.record.acknowledgement = phrase[0].text
        h.publish(EventKind.ACKNOWLEDGEMENT, {"text": phrase[0].text, "emotion": "warm", "planned": False})
        return phrase, ACKNOWLEDGEMENT

    async def _play(self, item: Item, source: str) -> None:
        h = self.host
        audio, pcm16k = item
        start = max(h.clock.now(), h.player.busy_until)
        if self.record.first_audio_s is None:
            self.record.first_audio_s = start
            h.on_started(self, start)
        duration = len(pcm16k) / 16000
        self._played.append((audio.text, start, duration, source))
        h.publish(EventKind.AGENT_TEXT, {"text": audio.text, "emotion": self.emotion, "start": start,
                                         "duration": duration, "source": source}, t=start)
        self._current = (audio, pcm16k, start)
        await self._watch_player(h.player.play(audio, pcm16k), start + duration, duration)
        self._current = None

    async def _watch_player(self, playing: Coroutine[Any, Any, float], end: float, duration: float) -> None:
        """Play, on the session timeline's watch: a player that fails or hangs leaves no way to speak (SessionFailure)."""
        h = self.host
        grace = h.config.session.lane_timeout_s
        play = self._playing = asyncio.ensure_future(playing)
        watchdog = asyncio.ensure_future(h.clock.sleep_until(end + grace))
        try:
            await asyncio.wait({play, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._playing = None
            watchdog.cancel()
            if not play.done():
                play.cancel()
        if not play.done() or play.cancelled():
            raise SessionFailure(f"the player hung: a {duration:.1f} s sentence still playing {grace:g} s after its end "
                                 "(session.lane_timeout_s)")
        if play.exception() is not None:
            raise SessionFailure(f"the player failed: {one_line(play.exception())}") from play.exception()

    def pause(self) -> float:
        """Stop playback now and keep the unheard rest; returns the timeline time it stopped."""
        stopped = self.host.player.stop()
        self.stopped_at = stopped
        if self._playing is not None:  # a sentence handed to the player but not yet started must never start
            self._playing.cancel()
        if not self.speaker.done():
            self.speaker.cancel()
        current, self._current = self._current, None
        if current is not None:
            audio, pcm16k, start = current
            source = self._played[-1][3]
            heard, rest = _split_at(audio, pcm16k, max(0.0, stopped - start))
            self._rest = (rest, source) if rest is not None else None
            self._played[-1] = (heard, start, max(0.0, stopped - start), source)
        return stopped

    def resume(self) -> None:
        """Play on from the word the pause cut, then the sentences still to come."""
        rest, self._rest = self._rest, None
        self.stopped_at = None
        self.speaker = self.host.spawn(self._resume(rest), f"resume-{self.trigger}")

    async def _resume(self, rest: Queued | None) -> None:
        await self._play_on(rest if rest is not None else await self._queue.get())

    def _publish_user_side(self) -> None:
        """The user's words and cues join the history once the answer to them is about to be heard."""
        if self._user_side_published:
            return
        self._user_side_published = True
        h = self.host
        if self.transcript is not None:
            h.publish(EventKind.TRANSCRIPT, {**_transcript_json(self.transcript), "final": True})
            h.context.add_utterance(self.transcript, self.audio if self.audio is not None else np.zeros(0, np.int16))
            if self.transcript.text:
                h.context.add_turn(DialogueTurn("user", self.transcript.text, self.transcript.end))
        for cue in self._cues():
            h.add_cue(cue)

    def _cues(self) -> list[VoiceCue | TextCue]:
        return [c for c in (self._voice, self._words) if c is not None]

    def _heard(self, stopped_at: float | None) -> list[tuple[str, str]]:
        """Each played sentence's heard words (all of them unless cut at ``stopped_at``) and their source."""
        heard: list[tuple[str, str]] = []
        for text, start, duration, source in self._played:
            if stopped_at is None or stopped_at >= start + duration:
                heard.append((text, source))
            elif stopped_at > start:
                words = text.split()
                heard.append((" ".join(words[:int(len(words) * (stopped_at - start) / max(duration, 1e-6))]), source))
        return [(text, source) for text, source in heard if text]

    def played_text(self, stopped_at: float | None) -> str:
        return " ".join(text for text, _ in self._heard(stopped_at))

    def _parts(self, stopped_at: float | None) -> list[dict[str, str]]:
        """What was heard, by source, consecutive sentences of one source joined (turns.json's ``parts``)."""
        parts: list[dict[str, str]] = []
        for text, source in self._heard(stopped_at):
            if parts and parts[-1]["source"] == source:
                parts[-1]["text"] += " " + text
            else:
                parts.append({"text": text, "source": source})
        return parts

    def finish(self, interrupted: bool, stopped_at: float | None = None) -> None:
        """Close the turn: what was actually heard goes to the history, the record to the trace."""
        if self.done:
            return
        self.done = True
        h = self.host
        self.record.interrupted = interrupted
        self.record.agent_text = self.played_text(stopped_at if interrupted else None)
        self.record.parts = self._parts(stopped_at if interrupted else None)
        if self.record.agent_text:
            h.context.add_turn(DialogueTurn("agent", self.record.agent_text, h.clock.now(),
                                            emotion=self.record.agent_emotion, interrupted=interrupted))
        h.on_finished(self)

    def cancel(self) -> None:
        for task in (self.producer, self.speaker):
            if not task.done():
                task.cancel()


def _split_at(audio: SpokenAudio, pcm16k: np.ndarray, offset: float) -> tuple[str, Item | None]:
    """The words heard by ``offset`` seconds into a sentence, and the rest from the word being said then."""
    words = audio.text.split()
    duration = len(pcm16k) / 16000
    if not words or offset >= duration:
        return audio.text, None
    k = min(len(words) - 1, int(len(words) * offset / max(duration, 1e-6)))
    frac = k / len(words)
    rest = SpokenAudio(" ".join(words[k:]), audio.samples[int(frac * len(audio.samples)):], audio.sample_rate)
    return " ".join(words[:k]), (rest, pcm16k[int(frac * len(pcm16k)):])


def _same_words(a: str, b: str) -> bool:
    return re.sub(r"[^a-z' ]", "", a.lower()).split() == re.sub(r"[^a-z' ]", "", b.lower()).split()


def _transcript_json(tr: Transcript) -> dict[str, object]:
    return {"text": tr.text, "start": tr.start, "end": tr.end,
            "words": [{"w": w.text, "s": w.start, "e": w.end} for w in tr.words]}


def _cue_json(emotion: EmotionState, face: FaceCue | None) -> dict[str, object]:
    """turns.json's ``cues``: every field of the fused state, and what the face showed."""
    return {"face_present": bool(face is not None and face.face_present),
            "expression": face.expression if face is not None else None,
            **{k: v for k, v in to_jsonable(emotion).items() if k != "t"}}
