"""Fusion of face, voice and word cues into one emotion state over the conversation, conflicts kept visible.

Each cue becomes a vote (the valence and/or arousal it suggests, weighted by
its source's setting, its confidence and its age). Valence is the weighted
mean of the valence votes; arousal comes mostly from the voice. Every text cue
is one user turn: its appraisal is remembered, and earlier turns vote too
("earlier"), each turn back keeping ``turn_decay`` of its weight, so sad news
two turns ago still colours a neutral question now. A smile over negative
words is masking: it is flagged and kept in the provenance, but never counted
as joy; reassuring words over a sad face ("I'm fine") are flagged as guarded
and do not count as good news either. When two sources disagree on valence by
``conflict_gap`` or more the state says so (``conflicts``) and its confidence
drops. ``reason`` says the evidence in one line.
"""
from __future__ import annotations

import math
from dataclasses import replace

from perception.expression import EXPRESSION_AROUSAL
from perception.settings import FusionSettings
from perception.types import CueVote, EmotionState, FaceCue, TextCue, TurnNote, VoiceCue

Cue = FaceCue | VoiceCue | TextCue

SOURCES = ("face", "voice", "words", "earlier")
"""Vote sources, in the order conflicts name them; "earlier" is the user's previous turns."""
VOICE_AROUSAL_BOOST = 2.0
"""Prosody is the best arousal signal we have; a face's expression only nudges it."""
EVIDENCE_FLOOR = 0.5
"""Below this total weight the votes are pulled toward neutral, so a faded cue cannot set the label alone."""
NEGLIGIBLE_WEIGHT = 1e-3
CURRENT_DECAY = 0.25
"""Votes older than two half-lives (or turns) still count a little, but no longer raise conflicts or flags."""
MEMORY_FLOOR = 0.05
"""A turn whose remaining share falls below this is forgotten."""
SMILE_VALENCE = 0.25
SAD_FACE_VALENCE = -0.25
NEGATIVE_WORDS = -0.2
"""Words (or earlier turns) at or below this valence make a smile read as masking."""
POSITIVE_WORDS = 0.1
"""Words above this valence explain a smile: it is joy, not masking."""
REASSURING_WORDS = 0.3
EVIDENCE_SHOWN = 4
_SMILE_LABELS = frozenset({"happiness", "happy", "smile", "smiling", "joy"})
_FACE_WORDS = {"happiness": "smiling", "sadness": "sad", "anger": "angry", "fear": "fearful", "disgust": "disgusted",
               "contempt": "contemptuous", "surprise": "surprised", "neutral": "neutral"}


def label_for(valence: float, arousal: float) -> str:
    """A label from the (valence, arousal) quadrant; one of perception.types.EMOTION_LABELS."""
    if valence >= 0.25:
        return "happy" if arousal > -0.3 else "calm"
    if valence <= -0.25:
        if arousal >= 0.35:
            return "angry" if valence <= -0.5 else "anxious"
        return "sad" if arousal <= 0.1 else "anxious"
    if arousal >= 0.55:
        return "surprised"
    if arousal <= -0.45:
        return "tired"
    return "calm" if arousal <= -0.2 else "neutral"


def polarity(valence: float) -> str:
    """"positive", "negative" or "neutral" for a valence (±0.1 is neutral)."""
    return "positive" if valence > 0.1 else "negative" if valence < -0.1 else "neutral"


def _smiling(vote: CueVote) -> bool:
    return (vote.valence or 0.0) >= SMILE_VALENCE or (vote.label or "").lower() in _SMILE_LABELS


class EmotionFusion:
    """The latest vote of each source, decayed with age, plus the remembered turns; fused on demand."""

    def __init__(self, settings: FusionSettings) -> None:
        self.settings = settings
        self._latest: dict[str, CueVote] = {}
        self._turns: list[TurnNote] = []
        self._minimizing = False

    def _vote(self, cue: Cue) -> CueVote | None:
        s = self.settings
        if isinstance(cue, FaceCue):
            if not cue.face_present or cue.valence is None:
                return None  # no face, or no expression read: the camera says nothing about feeling
            confidence = max(cue.expression_confidence, 0.3)
            arousal = EXPRESSION_AROUSAL.get(cue.expression, 0.0) * cue.expression_confidence if cue.expression else None
            seen = "smiling" if cue.smiling else _FACE_WORDS.get(cue.expression or "", cue.expression or "")
            # A smile the landmarks see is a smile (for masking) even when the classifier reads the face as neutral.
            label = "smiling" if cue.smiling and (cue.expression or "") not in _SMILE_LABELS else cue.expression
            return CueVote("face", cue.t, cue.valence, arousal, label, s.face_weight * confidence,
                           ((seen,) if seen else ()) + _face_provenance(cue))
        if isinstance(cue, VoiceCue):
            # Prosody says how stirred the person is, barely how pleasant: it votes on arousal only;
            # a short segment gives a shakier estimate.
            confidence = min(1.0, 0.5 + max(0.0, cue.end - cue.start) / 2)
            return CueVote("voice", cue.t, None, cue.arousal, None, s.voice_weight * confidence)
        if isinstance(cue, TextCue):
            if not cue.text.strip():
                return None
            appraisal = cue.appraisal
            label = next((c for c in appraisal.categories if c != "minimizing"), None)
            return CueVote("words", cue.t, cue.valence, None, label, s.text_weight * _text_confidence(cue.valence),
                           appraisal.evidence + appraisal.negated)
        raise TypeError(f"EmotionFusion.add: not a cue: {type(cue).__name__}")

    def add(self, cue: Cue) -> EmotionState:
        """Take ``cue`` (replacing its source's previous vote; a text cue is a new turn) and return the state at ``cue.t``."""
        vote = self._vote(cue)
        if vote is not None:
            self._latest[vote.source] = vote
            if isinstance(cue, TextCue):
                self._remember(cue, vote)
        state = self.state(cue.t)
        if isinstance(cue, TextCue) and state.guarded and self._turns and self._turns[0].valence > 0:
            # "I'm fine" over a sad face is remembered as no good news at all.
            self._turns[0] = replace(self._turns[0], valence=0.0)
            state = self.state(cue.t)
        return state

    def _remember(self, cue: TextCue, vote: CueVote) -> None:
        decay = self.settings.turn_decay
        note = TurnNote(cue.t, 0, cue.valence, 1.0, cue.appraisal.categories, vote.evidence)
        older = [replace(n, turns_ago=n.turns_ago + 1, weight=round(n.weight * decay, 4)) for n in self._turns]
        self._turns = [note, *(n for n in older if n.weight >= MEMORY_FLOOR)]
        self._minimizing = "minimizing" in cue.appraisal.categories

    def _earlier(self) -> tuple[CueVote, TurnNote] | None:
        """The previous turns as one vote (each weighted by its remaining share and its clarity), and the turn
        that says the most in it."""
        earlier = self._turns[1:]
        weights = [n.weight * _text_confidence(n.valence) for n in earlier]
        total = sum(weights)
        if total <= 0:
            return None
        valence = sum(n.valence * w for n, w in zip(earlier, weights)) / total
        strongest = max(zip(earlier, weights), key=lambda p: abs(p[0].valence) * p[1])[0]
        vote = CueVote("earlier", strongest.t, round(valence, 4), None, None,
                       round(self.settings.text_weight * self.settings.history_weight * total, 4),
                       _earlier_evidence(strongest))
        return vote, strongest

    def state(self, t: float) -> EmotionState:
        """The fused state at ``t``: votes decay by half every ``half_life_s``, earlier turns by turn."""
        votes, current = [], []
        for source in SOURCES[:3]:
            vote = self._latest.get(source)
            if vote is None:
                continue
            decay = math.pow(0.5, max(0.0, t - vote.t) / self.settings.half_life_s)
            if vote.weight * decay < NEGLIGIBLE_WEIGHT:
                continue
            decayed = replace(vote, weight=round(vote.weight * decay, 4))
            votes.append(decayed)
            if decay >= CURRENT_DECAY:
                current.append(decayed)
        earlier = self._earlier()
        if earlier is not None and earlier[0].weight >= NEGLIGIBLE_WEIGHT:
            votes.append(earlier[0])
            if earlier[1].weight >= CURRENT_DECAY:
                current.append(earlier[0])
        turns = tuple(self._turns)
        conversation = _conversation_valence(turns)
        if not votes:
            return EmotionState(t=t, valence=0.0, arousal=0.0, label="neutral", confidence=0.0,
                                conversation_valence=conversation, turns=turns)
        now = {v.source: v for v in current}
        masking, guarded = self._flags(now)
        ignored = {"face"} if masking else {"words"} if guarded else set()
        valence_votes = [(v.valence, v.weight) for v in votes if v.valence is not None and v.source not in ignored]
        arousal_votes = [(v.arousal, v.weight * (VOICE_AROUSAL_BOOST if v.source == "voice" else 1.0))
                         for v in votes if v.arousal is not None and not (masking and v.source == "face")]
        valence = _weighted_mean(valence_votes, EVIDENCE_FLOOR)
        arousal = _weighted_mean(arousal_votes, EVIDENCE_FLOOR)
        conflicts = [f"{a.source}:{polarity(a.valence)} vs {b.source}:{polarity(b.valence)}"
                     for i, a in enumerate(current) for b in current[i + 1:]
                     if a.valence is not None and b.valence is not None
                     and abs(a.valence - b.valence) >= self.settings.conflict_gap]
        full = self.settings.face_weight + self.settings.voice_weight + self.settings.text_weight
        coverage = min(1.0, sum(v.weight for v in votes) / full) if full > 0 else 0.0
        all_valences = [(v.valence, v.weight) for v in votes if v.valence is not None]
        spread = _weighted_mean([(abs(v - valence), w) for v, w in all_valences])
        agreement = (1.0 - 0.5 * min(1.0, spread)) * (0.5 if conflicts or masking or guarded else 1.0)
        return EmotionState(t=t, valence=round(max(-1.0, min(1.0, valence)), 4),
                            arousal=round(max(-1.0, min(1.0, arousal)), 4), label=label_for(valence, arousal),
                            confidence=round(coverage * agreement, 3), provenance=tuple(votes),
                            conflicts=tuple(conflicts), conversation_valence=conversation, turns=turns,
                            masking=masking, guarded=guarded, reason=_reason(now, masking, guarded))

    def _flags(self, now: dict[str, CueVote]) -> tuple[bool, bool]:
        """(masking, guarded) from the current votes: a smile over negative words, reassurance over a sad face."""
        face, words, earlier = now.get("face"), now.get("words"), now.get("earlier")
        if face is None or face.valence is None:
            return False, False
        said = words.valence if words is not None and words.valence is not None else 0.0
        before = earlier.valence if earlier is not None and earlier.valence is not None else 0.0
        masking = _smiling(face) and said <= POSITIVE_WORDS and min(said, before) <= NEGATIVE_WORDS
        # Good news told with a sad face may be mixed feelings; only reassurance is distrusted.
        guarded = (face.valence <= SAD_FACE_VALENCE and not _smiling(face) and words is not None
                   and words.label != "good_news"
                   and (said >= REASSURING_WORDS or (self._minimizing and said > NEGATIVE_WORDS)))
        return masking, guarded

    def reset(self) -> None:
        self._latest.clear()
        self._turns.clear()
        self._minimizing = False


def _face_provenance(cue: FaceCue) -> tuple[str, ...]:
    """Which model said what: "fer2013: happiness 0.94", "landmarks: smile 0.81"."""
    model = next((src.split(": ", 1)[1] for src in cue.sources if src.startswith("expression: ")), "expression")
    said = (f"{model}: {cue.expression} {cue.expression_confidence:.2f}",) if cue.expression else ()
    return said + ((f"landmarks: smile {cue.smile:.2f}",) if cue.smile is not None else ())


def _text_confidence(valence: float) -> float:
    return min(1.0, 0.4 + abs(valence))  # strongly worded text is clearer than bland text


def _earlier_evidence(note: TurnNote) -> tuple[str, ...]:
    ago = f"{note.turns_ago} turn{'s' if note.turns_ago > 1 else ''} ago"
    return (*note.evidence[:EVIDENCE_SHOWN - 1], ago)


def _conversation_valence(turns: tuple[TurnNote, ...]) -> float:
    weights = [n.weight * _text_confidence(n.valence) for n in turns]
    total = sum(weights)
    return round(sum(n.valence * w for n, w in zip(turns, weights)) / total, 4) if total > 0 else 0.0


def _reason(now: dict[str, CueVote], masking: bool, guarded: bool) -> str:
    """The evidence in one line: "words: negative (doctor, results); face: smiling; likely masking"."""
    parts = []
    words = now.get("words")
    if words is not None and words.valence is not None:
        shown = ", ".join(words.evidence[:EVIDENCE_SHOWN])
        parts.append(f"words: {polarity(words.valence)}" + (f" ({shown})" if shown else ""))
    earlier = now.get("earlier")
    if earlier is not None and earlier.valence is not None and polarity(earlier.valence) != "neutral":
        parts.append(f"earlier: {polarity(earlier.valence)} ({', '.join(earlier.evidence)})")
    face = now.get("face")
    if face is not None and face.evidence:
        parts.append(f"face: {face.evidence[0]}")
    voice = now.get("voice")
    if voice is not None and voice.arousal is not None:
        parts.append("voice: " + ("animated" if voice.arousal > 0.25 else "subdued" if voice.arousal < -0.25 else "even"))
    if masking:
        parts.append("likely masking")
    if guarded:
        parts.append("reassuring words, sad face")
    return "; ".join(parts)


def _weighted_mean(pairs: list[tuple[float, float]], floor: float = 0.0) -> float:
    total = max(sum(w for _, w in pairs), floor)
    return sum(x * w for x, w in pairs) / total if total > 0 else 0.0
