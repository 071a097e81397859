"""Replay of one case through the components a user runs, and the score of each reply.

Per user turn, as the session does it: face cues all along (as the face analyser
produces them: the smile model's "happiness", or a classifier's "sadness"), the turn's
voice and word cues (SentimentAnalyzer with its appraisal), fused on a copy of the
conversation's EmotionFusion, the RollingContext's view with the history so far, the
cue brain's reply; then the cues and both turns are committed, so the next turn sees them.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from agent.config import Config
from agent.context import RollingContext
from benchmarks.empathy.cases import Case, Turn
from dialogue.cue_brain import CueBrain
from dialogue.memory import DialogueMemory
from dialogue.types import DialogueTurn
from perception.expression import expression_valence
from perception.fusion import EmotionFusion
from perception.sentiment import SentimentAnalyzer
from perception.types import EmotionState, FaceCue, TextCue, Transcript, VoiceCue

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

    @property
    def scored(self) -> bool:
        return self.expect is not None

    @property
    def passed(self) -> bool:
        return self.valence_ok and not self.forbidden and not (self.cheerful and self.expect == "negative")

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


def score(turn: Turn, case: Case, reply: str, agent_emotion: str, state: EmotionState, case_id: str,
          index: int) -> TurnResult:
    said = reply.lower()
    cheerful = agent_emotion in CHEERFUL_EMOTIONS or any(p in said for p in CHEERFUL_PHRASES)
    banned = (*case.forbid, *turn.forbid, *(CHEERFUL_PHRASES if turn.expect == "negative" else ()))
    forbidden = tuple(dict.fromkeys(p for p in banned if p.lower() in said))
    return TurnResult(case=case_id, index=index, user=turn.user, face=turn.face, reply=reply,
                      agent_emotion=agent_emotion, user_label=state.label, reason=state.reason,
                      masking=state.masking, expect=turn.expect,
                      valence_ok=turn.expect is None or agent_emotion in MATCHING[turn.expect],
                      cheerful=cheerful, forbidden=forbidden)


class _Conversation:
    """One case's session state: the fusion, the rolling context and the brain, on a media timeline."""

    def __init__(self, config: Config) -> None:
        self.fusion = EmotionFusion(config.fusion)
        self.context = RollingContext(config.context, DialogueMemory(config.brain.context_tokens,
                                                                     keep_recent=config.context.history_turns))
        self.brain = CueBrain(config.brain, config.policy)
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

    def turn(self, turn: Turn) -> tuple[str, str, EmotionState]:
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
        view = self.context.view(decide_t, "end_of_turn", Transcript(turn.user, start, end), None, emotion=state,
                                 voice=voice, text_cue=words)
        _, agent_emotion, sentences = self.brain.decide(view)
        reply = " ".join(sentences)
        self.context.add_turn(DialogueTurn("user", turn.user, end))
        for cue in (voice, words):
            if cue is not None:
                self.add_cue(cue)
        spoken = decide_t + len(reply.split()) / AGENT_WORDS_PER_S
        self.watch(turn.face, spoken)
        self.context.add_turn(DialogueTurn("agent", reply, spoken, emotion=agent_emotion))
        return reply, agent_emotion, state


def run_case(case: Case, config: Config) -> tuple[TurnResult, ...]:
    """Every turn of ``case`` in order (so earlier turns and replies carry over), each scored."""
    conversation = _Conversation(config)
    results = []
    for index, turn in enumerate(case.turns):
        reply, agent_emotion, state = conversation.turn(turn)
        results.append(score(turn, case, reply, agent_emotion, state, case.id, index))
    return tuple(results)
