"""Fusion of face, voice and word cues into one emotion state over time, conflicts kept visible.

Each cue becomes a vote (the valence and/or arousal it suggests, weighted by
its source's setting, its confidence and its age). Valence is the weighted
mean of the valence votes; arousal comes mostly from the voice. When two
sources disagree on valence by ``conflict_gap`` or more the state says so
(``conflicts``) and its confidence drops: a smiling face with negative words is
flagged, not averaged into "neutral".
"""
from __future__ import annotations

import math

from perception.expression import EXPRESSION_AROUSAL
from perception.settings import FusionSettings
from perception.types import CueVote, EmotionState, FaceCue, TextCue, VoiceCue

Cue = FaceCue | VoiceCue | TextCue

SOURCES = ("face", "voice", "words")
"""Vote sources, in the order conflicts name them."""
VOICE_AROUSAL_BOOST = 2.0
"""Prosody is the best arousal signal we have; a face's expression only nudges it."""
EVIDENCE_FLOOR = 0.5
"""Below this total weight the votes are pulled toward neutral, so a faded cue cannot set the label alone."""
NEGLIGIBLE_WEIGHT = 1e-3
CURRENT_DECAY = 0.25
"""Votes older than two half-lives still count a little, but no longer raise conflicts."""


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


def _polarity(valence: float) -> str:
    return "positive" if valence > 0.1 else "negative" if valence < -0.1 else "neutral"


class EmotionFusion:
    """The latest vote of each source, decayed with age, fused on demand."""

    def __init__(self, settings: FusionSettings) -> None:
        self.settings = settings
        self._latest: dict[str, CueVote] = {}

    def _vote(self, cue: Cue) -> CueVote | None:
        s = self.settings
        if isinstance(cue, FaceCue):
            if not cue.face_present or cue.valence is None:
                return None  # no face, or no expression read: the camera says nothing about feeling
            confidence = max(cue.expression_confidence, 0.3)
            arousal = EXPRESSION_AROUSAL.get(cue.expression, 0.0) * cue.expression_confidence if cue.expression else None
            return CueVote("face", cue.t, cue.valence, arousal, cue.expression, s.face_weight * confidence)
        if isinstance(cue, VoiceCue):
            # Prosody says how stirred the person is, barely how pleasant: it votes on arousal only;
            # a short segment gives a shakier estimate.
            confidence = min(1.0, 0.5 + max(0.0, cue.end - cue.start) / 2)
            return CueVote("voice", cue.t, None, cue.arousal, None, s.voice_weight * confidence)
        if isinstance(cue, TextCue):
            if not cue.text.strip():
                return None
            confidence = min(1.0, 0.4 + abs(cue.valence))  # strongly worded text is clearer than bland text
            return CueVote("words", cue.t, cue.valence, None, None, s.text_weight * confidence)
        raise TypeError(f"EmotionFusion.add: not a cue: {type(cue).__name__}")

    def add(self, cue: Cue) -> EmotionState:
        """Take ``cue`` (replacing its source's previous vote) and return the fused state at ``cue.t``."""
        vote = self._vote(cue)
        if vote is not None:
            self._latest[vote.source] = vote
        return self.state(cue.t)

    def state(self, t: float) -> EmotionState:
        """The fused state at ``t``: votes decay by half every ``half_life_s``."""
        votes, current = [], []
        for source in SOURCES:
            vote = self._latest.get(source)
            if vote is None:
                continue
            decay = math.pow(0.5, max(0.0, t - vote.t) / self.settings.half_life_s)
            if vote.weight * decay < NEGLIGIBLE_WEIGHT:
                continue
            decayed = CueVote(vote.source, vote.t, vote.valence, vote.arousal, vote.label, round(vote.weight * decay, 4))
            votes.append(decayed)
            if decay >= CURRENT_DECAY:
                current.append(decayed)
        if not votes:
            return EmotionState(t=t, valence=0.0, arousal=0.0, label="neutral", confidence=0.0)
        valence_votes = [(v.valence, v.weight) for v in votes if v.valence is not None]
        arousal_votes = [(v.arousal, v.weight * (VOICE_AROUSAL_BOOST if v.source == "voice" else 1.0))
                         for v in votes if v.arousal is not None]
        valence = _weighted_mean(valence_votes, EVIDENCE_FLOOR)
        arousal = _weighted_mean(arousal_votes, EVIDENCE_FLOOR)
        conflicts = [f"{a.source}:{_polarity(a.valence)} vs {b.source}:{_polarity(b.valence)}"
                     for i, a in enumerate(current) for b in current[i + 1:]
                     if a.valence is not None and b.valence is not None
                     and abs(a.valence - b.valence) >= self.settings.conflict_gap]
        full = self.settings.face_weight + self.settings.voice_weight + self.settings.text_weight
        coverage = min(1.0, sum(v.weight for v in votes) / full) if full > 0 else 0.0
        spread = _weighted_mean([(abs(v - valence), w) for v, w in valence_votes])
        agreement = (1.0 - 0.5 * min(1.0, spread)) * (0.5 if conflicts else 1.0)
        return EmotionState(t=t, valence=round(max(-1.0, min(1.0, valence)), 4),
                            arousal=round(max(-1.0, min(1.0, arousal)), 4), label=label_for(valence, arousal),
                            confidence=round(coverage * agreement, 3), provenance=tuple(votes),
                            conflicts=tuple(conflicts))

    def reset(self) -> None:
        self._latest.clear()


def _weighted_mean(pairs: list[tuple[float, float]], floor: float = 0.0) -> float:
    total = max(sum(w for _, w in pairs), floor)
    return sum(x * w for x, w in pairs) / total if total > 0 else 0.0
