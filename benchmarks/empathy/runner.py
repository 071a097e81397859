"""Replay of one case through the components a user runs, with the configured brain, and the score of each reply.

Per user turn, as the session does it: face cues all along (as the face analyser
produces them: the smile model's "happiness", or a classifier's "sadness"), the turn's
voice and word cues (SentimentAnalyzer with its appraisal), fused on a copy of the
conversation's EmotionFusion, the RollingContext's view with the history so far, the
brain's streamed reply (any brain: cue, llama, openai, transformers); then the cues and
both turns are committed, so the next turn sees them. Each reply is timed as the runtime
times it (first words, first piece of speech), so the same conversation also measures speed.
"""
from __future__ import annotations

import copy
import re
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import Callable

from agent.config import Config
from agent.conversation.context import RollingContext
from benchmarks.empathy.cases import Case, Turn
from dialogue.memory import DialogueMemory
from dialogue.types import Brain, BrainView, DialogueTurn
from perception.expression import expression_valence
from perception.fusion import EmotionFusion
from perception.sentiment import SentimentAnalyzer
from perception.types import EmotionState, FaceCue, TextCue, Transcript, VoiceCue, Word
from speech.sentences import SentenceSplitter

MATCHING: dict[str, frozenset[str]] = {
    "negative": frozenset({"concerned", "sad", "calm"}),
    "neutral": frozenset({"neutral", "curious", "calm", "warm", "apologetic"}),
    "positive": frozenset({"happy", "excited", "warm"}),
}
"""Which agent emotions match the expected valence of the reply: empathy for negative content, warmth or
interest for neutral, gladness (or warmth) for positive. "calm" and "warm" each fit two of them."""
CHEERFUL_EMOTIONS = frozenset({"happy", "excited"})
CHEERFUL_PHRASES = (
    "wonderful news", "great to hear", "how lovely", "congratulations", "congrats", "so happy for you",
    "i love hearing", "celebrate", "that's great", "that's wonderful", "that's amazing", "awesome", "yay",
    "good for you", "how exciting", "fantastic")
"""Cheerful or congratulating phrases: never allowed in a reply to negative content."""
ASK_AGAIN_PHRASES = (
    "catch that", "catch what", "say it again", "say that again", "once more", "make that out", "make all of that out",
    "missed some", "missed what", "didn't hear", "tell me again", "repeat", "pardon", "come again")
"""Ways of saying "I did not catch that": a reply to a turn mostly misheard must have one and a question mark."""
SURE_PROBABILITY = 0.95
UNSURE_PROBABILITY = 0.2
"""Word probabilities the recognizer gives a clearly heard word and a misheard one (Whisper: 0.6-1.0, 0.1-0.5)."""
PARROT_MIN_LETTERS = 4
"""A misheard word this long or longer must not be said back; shorter ones (a, of, the) are in any reply."""

FACE_SCORES: dict[str, dict[str, float]] = {
    "smile": {"happiness": 0.8, "neutral": 0.2},
    "neutral": {"happiness": 0.1, "neutral": 0.9},
    "sad": {"sadness": 0.7, "neutral": 0.3},
}
"""Smoothed class scores the expression models give such a face (the smile model cannot see sadness: an ONNX
classifier's reading stands in)."""
VOICE_AROUSAL = {"subdued": -0.5, "even": 0.0, "animated": 0.6}
USER_WORDS_PER_S = 2.5
AGENT_WORDS_PER_S = 2.8
FACE_EVERY_S = 1.0
REPLY_DELAY_S = 0.6


@dataclass(frozen=True)
class Reply:
    """What a brain said to one turn, and when: ``first_words_s`` from the request to its first words,
    ``first_speech_s`` to the first piece the synthesizer would get (a sentence, or a first clause), an
    acknowledgement included."""
    decision: str | None
    emotion: str | None
    text: str
    acknowledgement: str | None
    notes: tuple[str, ...]
    first_words_s: float | None
    first_speech_s: float | None
    total_s: float


async def ask(brain: Brain, view: BrainView, first_clause_words: int | None = None) -> Reply:
    """The brain's whole reply to ``view``, timed piece by piece as the session consumes it."""
    splitter = SentenceSplitter(first_max_words=first_clause_words)
    decision = emotion = ack = None
    text, notes = "", []
    first_words = first_speech = None
    t0 = time.perf_counter()
    async with aclosing(brain.respond(view)) as deltas:  # type: ignore[type-var]
        async for delta in deltas:
            now = time.perf_counter() - t0
            decision = decision or delta.decision
            emotion = emotion or delta.emotion
            if delta.note:
                notes.append(delta.note)
            if delta.acknowledgement:
                ack = delta.acknowledgement.text
                first_speech = first_speech if first_speech is not None else now
            if delta.text:
                text += delta.text
                first_words = first_words if first_words is not None else now
                if first_speech is None and splitter.push(delta.text):
                    first_speech = now
    total = time.perf_counter() - t0
    if text.strip() and first_speech is None:
        first_speech = total  # one sentence that only the end of the stream completed
    return Reply(decision, emotion, " ".join(text.split()), ack, tuple(notes), first_words, first_speech, total)


@dataclass(frozen=True)
class TurnResult:
    """One user turn and the agent's reply, with the emotion state it read and the verdict when scored."""
    case: str
    index: int
    user: str
    face: str
    reply: str
    agent_emotion: str
    user_label: str
    reason: str
    masking: bool
    expect: str | None
    valence_ok: bool
    cheerful: bool
    forbidden: tuple[str, ...]
    parroted: tuple[str, ...] = ()
    missed_ask: bool = False
    decision: str = "respond"
    acknowledgement: str | None = None
    notes: tuple[str, ...] = ()
    first_speech_ms: float | None = None

    @property
    def scored(self) -> bool:
        return self.expect is not None

    @property
    def passed(self) -> bool:
        return (self.valence_ok and not self.forbidden and not self.parroted and not self.missed_ask
                and not (self.cheerful and self.expect == "negative"))

    @property
    def why(self) -> str:
        """Why the turn failed ('' when it passed or is not scored)."""
        if not self.scored or self.passed:
            return ""
        problems = []
        if not self.valence_ok:
            problems.append(f"emotion {self.agent_emotion} is not {self.expect}")
        if self.cheerful and self.expect == "negative":
            problems.append("cheerful reply to negative content")
        if self.forbidden:
            problems.append("says " + ", ".join(repr(p) for p in self.forbidden))
        if self.parroted:
            problems.append("says back misheard " + ", ".join(repr(p) for p in self.parroted))
        if self.missed_ask:
            problems.append("does not ask to hear it again")
        return "; ".join(problems)


def face_cue(face: str, t: float) -> FaceCue:
    """What the face analyser reports for a ``face`` ("smile", "neutral", "sad", "none") at ``t``."""
    if face == "none":
        return FaceCue(t=t, face_present=False)
    scores = FACE_SCORES[face]
    label = max(scores, key=scores.__getitem__)
    return FaceCue(t=t, face_present=True, face_id=1, faces=1, expression=label, expression_confidence=scores[label],
                   smiling=scores.get("happiness", 0.0) >= 0.5, valence=round(expression_valence(scores), 4))


def voice_cue(voice: str, start: float, end: float) -> VoiceCue:
    arousal = VOICE_AROUSAL[voice]
    return VoiceCue(t=end, start=start, end=end, energy_db=-20.0 + 8 * arousal, pitch_median_hz=160.0 + 40 * arousal,
                    pitch_range_semitones=5.0 + 4 * arousal, speaking_rate_wps=USER_WORDS_PER_S + arousal,
                    energy_rel=arousal, pitch_rel=arousal, rate_rel=arousal, arousal=arousal)


def heard_words(turn: Turn, start: float, end: float) -> tuple[Word, ...]:
    """The turn's words as the recognizer gives them: spread over the turn, the unsure ones with a low probability."""
    words, marks = turn.user.split(), turn.unsure_marks
    step = (end - start) / len(words)
    return tuple(Word(w, start + i * step, start + (i + 1) * step, UNSURE_PROBABILITY if unsure else SURE_PROBABILITY)
                 for i, (w, unsure) in enumerate(zip(words, marks)))


def _misheard(turn: Turn) -> tuple[str, ...]:
    """The unsure words long enough to count as said back, less those the user also said clearly."""
    words = [w.strip(".,!?;:\"").lower() for w in turn.user.split()]
    sure = {w for w, unsure in zip(words, turn.unsure_marks) if not unsure}
    return tuple(dict.fromkeys(w for w, unsure in zip(words, turn.unsure_marks)
                               if unsure and len(w) >= PARROT_MIN_LETTERS and w not in sure))


def score(turn: Turn, case: Case, reply: str, agent_emotion: str, state: EmotionState, case_id: str,
          index: int, answer: Reply | None = None) -> TurnResult:
    said = reply.lower()
    cheerful = agent_emotion in CHEERFUL_EMOTIONS or any(p in said for p in CHEERFUL_PHRASES)
    banned = (*case.forbid, *turn.forbid, *(CHEERFUL_PHRASES if turn.expect == "negative" else ()))
    forbidden = tuple(dict.fromkeys(p for p in banned if p.lower() in said))
    parroted = tuple(w for w in _misheard(turn) if re.search(rf"\b{re.escape(w)}\b", said))
    asked = "?" in said and any(p in said for p in ASK_AGAIN_PHRASES)
    return TurnResult(case=case_id, index=index, user=turn.user, face=turn.face, reply=reply,
                      agent_emotion=agent_emotion, user_label=state.label, reason=state.reason,
                      masking=state.masking, expect=turn.expect,
                      valence_ok=turn.expect is None or agent_emotion in MATCHING[turn.expect],
                      cheerful=cheerful, forbidden=forbidden, parroted=parroted,
                      missed_ask=turn.mostly_unsure and not asked,
                      **({} if answer is None else _timing(answer)))


def _timing(answer: Reply) -> dict[str, object]:
    first = answer.first_speech_s
    return {"decision": answer.decision or "wait", "acknowledgement": answer.acknowledgement, "notes": answer.notes,
            "first_speech_ms": None if first is None else round(first * 1000, 1)}


class Conversation:
    """One case's session state: the fusion, the rolling context (history counted with ``count_tokens``), the
    cue analysers, on a media timeline. :meth:`listen` gives the view the brain answers; :meth:`commit` what
    the turn leaves behind."""

    def __init__(self, config: Config, count_tokens: Callable[[str], int] | None = None) -> None:
        self.fusion = EmotionFusion(config.fusion)
        self.context = RollingContext(config.context, DialogueMemory(config.brain.context_tokens, count_tokens,
                                                                     keep_recent=config.context.history_turns))
        self.sentiment = SentimentAnalyzer()
        self.t = 0.0

    def add_cue(self, cue: FaceCue | VoiceCue | TextCue) -> None:
        self.context.add_cue(cue)
        self.context.add_cue(self.fusion.add(cue))

    def watch(self, face: str, until: float) -> None:
        """Face cues from now until ``until``, as the vision lane samples them."""
        while self.t < until:
            self.add_cue(face_cue(face, self.t))
            self.t += FACE_EVERY_S
        self.t = until

    def heard(self, turn: Turn, words: int) -> BrainView:
        """The view while the user is still speaking: their first ``words`` words settled (the engine may start
        reading them); the clock is not moved."""
        start = self.t + 0.5
        said = " ".join(turn.user.split()[:words])
        return self.context.view(start, "end_of_turn", Transcript(said, start, start + words / USER_WORDS_PER_S))

    def listen(self, turn: Turn) -> tuple[BrainView, EmotionState, VoiceCue | None, TextCue]:
        """The user says ``turn``: the view the brain answers, the fused state it reads, and the turn's cues."""
        start = self.t + 0.5
        end = start + len(turn.user.split()) / USER_WORDS_PER_S
        self.watch(turn.face, end)
        voice = voice_cue(turn.voice, start, end) if turn.voice else None
        words = self.sentiment.analyze(turn.user, end)
        trial = copy.deepcopy(self.fusion)  # the turn's cues are not committed until the reply is decided
        if voice is not None:
            trial.add(voice)
        state = trial.add(words)
        decide_t = end + REPLY_DELAY_S
        self.watch(turn.face, decide_t)
        heard = Transcript(turn.user, start, end, heard_words(turn, start, end))
        view = self.context.view(decide_t, "end_of_turn", heard, None, emotion=state, voice=voice, text_cue=words)
        return view, state, voice, words

    def commit(self, turn: Turn, view: BrainView, reply: Reply, voice: VoiceCue | None, words: TextCue) -> None:
        """The user's turn, its cues and what the agent said (in the time it takes to say it) join the history."""
        assert view.transcript is not None
        self.context.add_turn(DialogueTurn("user", turn.user, view.transcript.end))
        for cue in (voice, words):
            if cue is not None:
                self.add_cue(cue)
        said = " ".join(p for p in (reply.acknowledgement, reply.text) if p)
        if said:
            spoken = self.t + len(said.split()) / AGENT_WORDS_PER_S
            self.watch(turn.face, spoken)
            self.context.add_turn(DialogueTurn("agent", said, spoken, emotion=reply.emotion))


async def run_case(case: Case, config: Config, brain: Brain) -> tuple[TurnResult, ...]:
    """Every turn of ``case`` in order (so earlier turns and replies carry over), each answered by ``brain`` and
    scored; the brain reads the words of each turn before its end, as the runtime lets it."""
    conversation = Conversation(config, getattr(brain, "count_tokens", None))
    prefetch = getattr(brain, "prefetch", None)
    results = []
    for index, turn in enumerate(case.turns):
        if prefetch is not None:
            prefetch(conversation.heard(turn, max(1, len(turn.user.split()) - 2)))
        view, state, voice, words = conversation.listen(turn)
        reply = await ask(brain, view, config.tts.first_clause_words or None)
        said = " ".join(p for p in (reply.acknowledgement, reply.text) if p)
        results.append(score(turn, case, said, reply.emotion or "none", state, case.id, index, reply))
        conversation.commit(turn, view, reply, voice, words)
    return tuple(results)
