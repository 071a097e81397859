"""Result types perception produces: speech boundaries, transcripts, cues and the fused emotion state.

All times are seconds on the session timeline (media time in replay).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpeechStarted:
    """Speech onset confirmed (after the minimum speech duration); ``t`` is the onset itself."""
    t: float


@dataclass(frozen=True)
class SilenceStarted:
    """Speech paused at ``t``; the turn may or may not be over (speculative ASR starts here)."""
    t: float
    segment_start: float


@dataclass(frozen=True)
class SpeechResumed:
    """The user went on after a pause shorter than the end-of-turn silence."""
    t: float


@dataclass(frozen=True)
class SpeechEnded:
    """End of a user turn: the silence lasted past the end-of-turn threshold; ``start``/``end`` bound the speech."""
    start: float
    end: float


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Transcript:
    text: str
    start: float
    end: float
    words: tuple[Word, ...] = ()
    final: bool = True
    language: str = "en"


@dataclass(frozen=True)
class FaceBox:
    x: float
    y: float
    w: float
    h: float
    score: float = 1.0


@dataclass(frozen=True)
class FaceCue:
    """What the camera shows of the main face at ``t`` (coordinates relative to the frame, 0..1).

    ``box.score`` is the detector's probability; ``expression`` and ``expression_confidence`` the classifier's
    smoothed top class; ``smiling``: that class is happiness, or the landmarks show a smile; ``valence``
    (-1..1) comes from the class scores. With landmarks (``None`` / False without them):

    - ``smile`` 0..1: mouth corners lifted above the lips' centre line (0.5 is the smile threshold);
      ``mouth_opening``: the inner lips' gap in outer eye-corner distances, ``mouth_open`` when above
      ``face.mouth_open_above``; ``eye_openness``: eyelid gap over eye width (~0.3 open); ``blink``: the
      eyes closed and reopened (reported on the frame they reopen); ``brow_raise``: brows' height above the
      upper eyelids, ``brow_gap``: inner brow ends apart (smaller in a frown), both in eye distances.
    - ``head_pitch`` (> 0 up), ``head_yaw`` (> 0 toward the image's right), ``head_roll`` (> 0 clockwise),
      degrees; ``nod`` / ``shake``: a nod or head shake within the last ``face.nod_window_s``.
    - ``gaze_yaw`` / ``gaze_pitch``: where head and eyes point together (degrees, signs as the head's);
      ``gaze_offset``: degrees from where this person usually looks; ``gaze_away`` when at least
      ``face.gaze_away_deg``.
    - ``points``: a few landmarks (x, y) for an overlay: face outline, brows, eyes, nose, mouth, irises.

    ``sources`` names the models behind the cue, e.g. ``("detector: blazeface-short", "landmarks:
    face-mesh+iris", "expression: fer2013")``.
    """
    t: float
    face_present: bool
    face_id: int | None = None
    box: FaceBox | None = None
    faces: int = 0
    motion: float = 0.0
    expression: str | None = None
    expression_confidence: float = 0.0
    smiling: bool | None = None
    valence: float | None = None
    smile: float | None = None
    mouth_opening: float | None = None
    mouth_open: bool = False
    eye_openness: float | None = None
    blink: bool = False
    brow_raise: float | None = None
    brow_gap: float | None = None
    head_pitch: float | None = None
    head_yaw: float | None = None
    head_roll: float | None = None
    nod: bool = False
    shake: bool = False
    gaze_yaw: float | None = None
    gaze_pitch: float | None = None
    gaze_offset: float | None = None
    gaze_away: bool = False
    points: tuple[tuple[float, float], ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class VoiceCue:
    """Prosody of one speech segment, each figure also relative to the session's running baseline."""
    t: float
    start: float
    end: float
    energy_db: float
    pitch_median_hz: float | None
    pitch_range_semitones: float | None
    speaking_rate_wps: float | None
    energy_rel: float
    pitch_rel: float
    rate_rel: float
    arousal: float


@dataclass(frozen=True)
class Appraisal:
    """What the words say happened to the speaker: signed valence, how strongly, which kinds of event, and why.

    ``categories`` are names from :data:`APPRAISAL_CATEGORIES`, strongest first; ``evidence`` the words that
    matched, in the order said ("doctor", "results"); ``negated`` the ones a negation turned round
    ("not failed"). "minimizing" marks reassurance such as "I'm fine" that says nothing about good news.
    """
    valence: float = 0.0
    intensity: float = 0.0
    categories: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    negated: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextCue:
    """Word-level sentiment of one final transcript: ``valence`` (-1..1) is VADER's refined by the appraisal.

    ``positive``/``negative``/``neutral`` are VADER's shares of the words.
    """
    t: float
    text: str
    valence: float
    positive: float
    negative: float
    neutral: float
    appraisal: Appraisal = Appraisal()


@dataclass(frozen=True)
class CueVote:
    """One cue's say in the fused state: its source, when, and what it suggested."""
    source: str
    t: float
    valence: float | None
    arousal: float | None
    label: str | None
    weight: float
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class TurnNote:
    """One remembered user turn: what its words said (valence, kinds of event, evidence) and how much it still counts.

    ``turns_ago`` is 0 for the latest turn; ``weight`` is the share it keeps (``turn_decay ** turns_ago``).
    """
    t: float
    turns_ago: int
    valence: float
    weight: float
    categories: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmotionState:
    """The fused estimate of the user's feeling at ``t``, over the whole conversation.

    ``valence`` and ``arousal`` are in -1..1; ``label`` is one of
    :data:`EMOTION_LABELS`; ``conflicts`` names cue pairs that disagree
    (e.g. ``"face:positive vs words:negative"``); they are kept, not averaged away.
    ``conversation_valence`` is the valence of the remembered turns' words, the latest
    counting most; ``turns`` are those turns, latest first. ``masking``: a smile over
    negative words (read as politeness, never as joy); ``guarded``: reassuring words
    over a sad face. ``reason`` says the evidence in one line, e.g.
    ``"words: negative (doctor, results); face: smiling; likely masking"``.
    """
    t: float
    valence: float
    arousal: float
    label: str
    confidence: float
    provenance: tuple[CueVote, ...] = ()
    conflicts: tuple[str, ...] = ()
    conversation_valence: float = 0.0
    turns: tuple[TurnNote, ...] = ()
    masking: bool = False
    guarded: bool = False
    reason: str = ""


APPRAISAL_CATEGORIES = ("loss", "illness", "failure", "fear", "shame", "conflict", "anger", "loneliness", "strain",
                        "money", "sadness", "setback", "good_news", "joy", "relief", "minimizing")
"""Kinds of event or feeling the appraisal recognises in what the user says; "relief" is a negated misfortune."""

EMOTION_LABELS = ("neutral", "happy", "sad", "angry", "anxious", "surprised", "calm", "tired")
