"""Hearing: the user's audio made into what the TurnTaker and the brain need (words, voice and word cues).

While the user speaks the turn is transcribed incrementally; at a pause the rest is transcribed, the
words go to the TurnTaker at once (a :class:`dialogue.turntaking.Heard` fact: they decide how long the
pause must last) and the voice and word cues follow. Words said over the agent (overheard) are
transcribed for the TurnTaker too, and kept for the answer should they become the next turn. The
answer receives the turn as a :class:`Listening`: its words first, the whole :class:`Utterance` after.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import numpy as np

from agent.conversation.context import RollingContext
from agent.conversation.services import Services
from agent.conversation.user_audio import UserAudio
from agent.runtime.events import EventKind
from dialogue import turntaking as tt
from perception.incremental import IncrementalTranscriber
from perception.prosody import VoiceAnalyzer
from perception.sentiment import SentimentAnalyzer
from perception.types import TextCue, Transcript, VoiceCue


@dataclass(frozen=True)
class Utterance:
    """A user turn as heard: its audio and words, the voice and word cues, what failed, and what hearing took.

    ``asr_start_s`` is timeline seconds from the pause to the start of transcription; ``asr_s`` and ``cues_s``
    are wall seconds (all 0 for words already transcribed while the agent spoke).
    """

    start: float
    pause_t: float
    audio: np.ndarray
    transcript: Transcript
    voice: VoiceCue | None = None
    words: TextCue | None = None
    faults: tuple[str, ...] = ()
    asr_start_s: float = 0.0
    asr_s: float = 0.0
    cues_s: float = 0.0

    @property
    def cues(self) -> list[VoiceCue | TextCue]:
        return [c for c in (self.voice, self.words) if c is not None]


@dataclass(frozen=True)
class Listening:
    """A turn being heard: ``words`` resolves first (the answer's deadline counts from it), ``utterance`` after."""

    start: float
    pause_t: float
    audio: np.ndarray
    words: asyncio.Future[Transcript]
    utterance: asyncio.Task[Utterance]

    def cancel(self) -> None:
        """The answer was dropped: a transcription still queued in the asr lane never runs."""
        self.utterance.cancel()


class Hearing:
    def __init__(self, services: Services, audio: UserAudio, context: RollingContext) -> None:
        self.services = services
        self.audio = audio
        self.context = context  # read by the brain's engine ahead of the turn (prefetch)
        self.voice = VoiceAnalyzer(services.config.voice)
        self.sentiment = SentimentAnalyzer()
        self.shed = False  # the CPU cannot keep up: no incremental transcription
        self._overheard: dict[tuple[float, float], Transcript] = {}  # words said over the stopped agent, by span
        self._incremental: IncrementalTranscriber | None = None  # the turn being transcribed while it is spoken
        self._updating = False
        self._updated_at = 0.0

    # ---- while the user speaks ------------------------------------------------------------------------------------
    def listening(self, start: float | None, speaking: bool, now: float) -> None:
        """The user is talking: every ``asr.incremental_interval_s`` transcribe the turn so far, so at the pause
        only its tail is left (``asr.incremental``)."""
        settings = self.services.config.asr
        if not (settings.incremental and speaking and start is not None) or self._updating or self.shed:
            return
        audio, t0 = self.audio.turn(start, now)
        if self._incremental is None or self._incremental.t0 != t0:
            self._incremental = IncrementalTranscriber(self.services.models.transcriber, t0)
            self._updated_at = now
        if now - self._updated_at >= settings.incremental_interval_s:
            self._updating, self._updated_at = True, now
            self.services.spawn(self._update(self._incremental, audio))

    async def _update(self, incremental: IncrementalTranscriber, audio: np.ndarray) -> None:
        s = self.services
        try:
            t0 = time.perf_counter()
            settled = len(incremental.kept)
            async with s.activity.busy():
                await s.models.run("asr", incremental.update, audio)
            s.metrics.stage("asr_incremental", (time.perf_counter() - t0) * 1000)
            if len(incremental.kept) > settled:
                self.prefetch(Transcript(incremental.settled_text, incremental.t0, incremental.cut))
        except Exception as exc:  # the whole turn is transcribed again at the pause
            s.degraded("asr", exc)
        finally:
            self._updating = False

    def prefetch(self, heard: Transcript | None) -> None:
        """Let the brain's engine read the conversation and the words settled so far while the user speaks."""
        prefetch = getattr(self.services.models.brain, "prefetch", None)
        if prefetch is not None:
            prefetch(self.context.view(self.services.clock.now(), "end_of_turn", heard))

    # ---- at a pause -------------------------------------------------------------------------------------------------
    def utterance(self, start: float, pause_t: float, speculative: bool) -> Listening:
        """Hear the turn from ``start`` to the pause at ``pause_t``; its words are fed to the TurnTaker as they come."""
        audio, t0 = self.audio.turn(start, pause_t)
        words: asyncio.Future[Transcript] = asyncio.get_running_loop().create_future()
        known = self._overheard.pop((start, pause_t), None)
        task = self.services.spawn(self._hear(start, pause_t, audio, t0, words, known, speculative),
                                   f"hear-{'preemptive' if speculative else 'end_of_turn'}")
        task.add_done_callback(lambda _: words.cancel())  # ended before its words (cancelled): nobody waits forever
        return Listening(start, pause_t, audio, words, task)

    async def _hear(self, start: float, pause_t: float, audio: np.ndarray, t0: float,
                    words: asyncio.Future[Transcript], known: Transcript | None, speculative: bool) -> Utterance:
        s = self.services
        faults: list[str] = []
        asr_start_s = asr_s = 0.0
        transcript = known
        if transcript is None:
            began = time.perf_counter()
            asr_start_s = max(0.0, s.clock.now() - pause_t)
            try:
                transcript = await s.models.run("asr", self._transcribe, audio, t0)
            except Exception as exc:  # the answer says it lost the user (the trouble phrase)
                faults.append("asr")
                s.degraded("asr", exc)
                transcript = Transcript("", start, pause_t)
            asr_s = time.perf_counter() - began
            s.metrics.stage("asr", asr_s * 1000)
        if not words.done():
            words.set_result(transcript)
        s.publish(EventKind.TRANSCRIPT, {**transcript_json(transcript), "final": False, "speculative": speculative})
        s.feed(tt.Heard(pause_t, transcript.text))
        began = time.perf_counter()
        voice = text = None
        end = pause_t or transcript.end
        try:
            voice = await s.models.run("cues", self.voice.analyze, audio, start, end, transcript.words, pause_t)
            text = await s.models.run("cues", self.sentiment.analyze, transcript.text, end)
        except Exception as exc:  # the brain answers the words without the voice and word cues
            faults.append("cues")
            s.degraded("cues", exc)
        return Utterance(start, pause_t, audio, transcript, voice, text, tuple(faults), asr_start_s, asr_s,
                         time.perf_counter() - began)

    def _transcribe(self, audio: np.ndarray, t0: float) -> Transcript:
        """A turn's words (blocking: the asr lane): only the tail after what was settled while it was spoken."""
        incremental = self._incremental
        if incremental is not None and incremental.t0 == t0:
            return incremental.finish(audio)
        return self.services.models.transcriber.transcribe(audio, t0, True)

    # ---- over the agent ---------------------------------------------------------------------------------------------
    def overheard(self, start: float, pause_t: float) -> None:
        """Transcribe speech over the stopped agent: the TurnTaker judges from its words whether to resume."""
        self.services.spawn(self._overhear(start, pause_t))

    async def _overhear(self, start: float, pause_t: float) -> None:
        s = self.services
        audio, offset = self.audio.turn(start, pause_t)
        try:
            async with s.activity.busy():
                transcript = await s.models.run("asr", s.models.transcriber.transcribe, audio, offset, True)
        except Exception as exc:
            s.degraded("asr", exc)
            s.feed(tt.Heard(pause_t, None))
            return
        self._overheard = {(start, pause_t): transcript}
        said = transcript.words
        s.feed(tt.Heard(pause_t, transcript.text, sum(w.probability for w in said) / len(said) if said else 1.0))


def transcript_json(tr: Transcript) -> dict[str, object]:
    return {"text": tr.text, "start": tr.start, "end": tr.end,
            "words": [{"w": w.text, "s": w.start, "e": w.end} for w in tr.words]}
