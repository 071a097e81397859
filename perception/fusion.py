"""Fusion of face, voice and word cues into one emotion state over time, conflicts kept visible.

Each cue becomes a vote (valence and/or arousal it suggests, a weight from
its source, confidence and age). Valence is the weighted mean of the votes;
arousal comes mostly from the voice. When two sources disagree on valence by
more than ``conflict_gap`` the state says so (``conflicts``) and its
confidence drops: a smiling face with negative words is flagged, not averaged
into "neutral".
"""
from __future__ import annotations

import math

from perception.expression import EXPRESSION_AROUSAL
from perception.settings import FusionSettings
from perception.types import CueVote, EmotionState, FaceCue, TextCue, VoiceCue

Cue = FaceCue | VoiceCue | TextCue


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


class EmotionFusion:
    def __init__(self, settings: FusionSettings) -> None:
        self.s = settings
        self._latest: dict[str, CueVote] = {}

    def _vote(self, cue: Cue) -> CueVote | None:
        if isinstance(cue, FaceCue):
            if not cue.face_present or cue.valence is None:
                return None
            arousal = EXPRESSION_AROUSAL.get(cue.expression or "", 0.0) * cue.expression_confidence
            return CueVote("face", cue.t, cue.valence, arousal if cue.expression else None, cue.expression,
                           self.s.face_weight * max(cue.expression_confidence, 0.3))
        if isinstance(cue, VoiceCue):
            # Prosody says how stirred the person is, barely how pleasant: it votes on arousal only.
            return CueVote("voice", cue.t, None, cue.arousal, None, self.s.voice_weight)
        if isinstance(cue, TextCue):
            if not cue.text.strip():
                return None
            strength = min(1.0, 0.4 + abs(cue.valence))
            return CueVote("words", cue.t, cue.valence, None, None, self.s.text_weight * strength)
        raise TypeError(f"not a cue: {type(cue).__name__}")

    def add(self, cue: Cue) -> EmotionState:
        vote = self._vote(cue)
        if vote is not None:
            self._latest[vote.source] = vote
        return self.state(cue.t)

    def state(self, t: float) -> EmotionState:
        votes = []
        for vote in self._latest.values():
            decay = math.pow(0.5, max(0.0, t - vote.t) / self.s.half_life_s)
            votes.append(CueVote(vote.source, vote.t, vote.valence, vote.arousal, vote.label, round(vote.weight * decay, 4)))
        val_votes = [v for v in votes if v.valence is not None and v.weight > 1e-3]
        aro_votes = [v for v in votes if v.arousal is not None and v.weight > 1e-3]
        if not val_votes and not aro_votes:
            return EmotionState(t=t, valence=0.0, arousal=0.0, label="neutral", confidence=0.0, provenance=tuple(votes))
        w_val = sum(v.weight for v in val_votes)
        valence = sum(v.valence * v.weight for v in val_votes) / w_val if w_val else 0.0  # type: ignore[operator]
        aro_weights = [(v, v.weight * (2.0 if v.source == "voice" else 1.0)) for v in aro_votes]
        w_aro = sum(w for _, w in aro_weights)
        arousal = sum(v.arousal * w for v, w in aro_weights) / w_aro if w_aro else 0.0  # type: ignore[operator]
        conflicts = []
        for i, a in enumerate(val_votes):
            for b in val_votes[i + 1:]:
                if abs(a.valence - b.valence) >= self.s.conflict_gap:  # type: ignore[operator]
                    conflicts.append(f"{a.source}:{_sign(a.valence)} vs {b.source}:{_sign(b.valence)}")  # type: ignore[arg-type]
        total = w_val + w_aro
        agreement = 1.0 - (0.5 if conflicts else 0.0)
        confidence = min(1.0, total / (self.s.text_weight + self.s.voice_weight + self.s.face_weight)) * agreement
        return EmotionState(t=t, valence=round(max(-1.0, min(1.0, valence)), 4),
                            arousal=round(max(-1.0, min(1.0, arousal)), 4), label=label_for(valence, arousal),
                            confidence=round(confidence, 3), provenance=tuple(votes), conflicts=tuple(conflicts))


def _sign(v: float) -> str:
    return "positive" if v > 0.1 else "negative" if v < -0.1 else "neutral"
