"""The rolling multimodal context: bounded, time-indexed memory of keyframes, utterances, cues and turns.

It is filled by the session and read through :meth:`RollingContext.view`,
which builds the brain's :class:`~dialogue.types.BrainView`. Everything is
bounded by age (``window_s``), count and total bytes.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from dialogue.encoding import encode_jpeg
from dialogue.memory import DialogueMemory
from dialogue.types import BrainView, DialogueTurn, Keyframe, Trigger
from perception.settings import ContextSettings
from perception.types import EmotionState, FaceCue, TextCue, Transcript, VoiceCue
from perception.vision import normalize_frame


@dataclass(frozen=True)
class KeptUtterance:
    """A user utterance kept in the window: its words, and its audio for a brain that listens."""
    transcript: Transcript
    audio: np.ndarray = field(repr=False)


def _thumb(image: np.ndarray) -> np.ndarray:
    gray = image if image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
    return cv2.resize(gray, (32, 24), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


class KeyframeSelector:
    """Keeps a frame only when it differs visibly from the last keyframe (and not too soon after it)."""

    def __init__(self, settings: ContextSettings) -> None:
        self.s = settings
        self._last_thumb: np.ndarray | None = None
        self._last_t = -1e9

    def wants(self, image: np.ndarray, t: float) -> bool:
        if t - self._last_t < self.s.keyframe_min_gap_s:
            return False
        thumb = _thumb(image)
        if self._last_thumb is not None and thumb.shape == self._last_thumb.shape:
            if float(np.abs(thumb - self._last_thumb).mean()) < self.s.keyframe_change:
                return False
        self._last_thumb, self._last_t = thumb, t
        return True

    def encode(self, image: np.ndarray, t: float) -> Keyframe:
        """Downscale and JPEG-compress (heavy: call off the loop)."""
        image = normalize_frame(image, max_width=image.shape[1])  # any layout → BGR uint8
        h, w = image.shape[:2]
        scale = self.s.keyframe_max_side / max(h, w)
        if scale < 1.0:
            image = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
        return Keyframe(t=t, jpeg=encode_jpeg(image, self.s.jpeg_quality), width=image.shape[1], height=image.shape[0])


class RollingContext:
    def __init__(self, settings: ContextSettings, memory: DialogueMemory) -> None:
        self.s = settings
        self.memory = memory
        self.keyframes: deque[Keyframe] = deque()
        self.utterances: deque[KeptUtterance] = deque()
        self.cues: deque[FaceCue | VoiceCue | TextCue | EmotionState] = deque()
        self.face: FaceCue | None = None
        self.voice: VoiceCue | None = None
        self.text: TextCue | None = None
        self.emotion: EmotionState | None = None

    @property
    def bytes_used(self) -> int:
        return sum(len(k.jpeg) for k in self.keyframes) + sum(u.audio.nbytes for u in self.utterances)

    def add_keyframe(self, frame: Keyframe) -> None:
        self.keyframes.append(frame)
        self._trim(frame.t)

    def add_utterance(self, transcript: Transcript, audio: np.ndarray) -> None:
        self.utterances.append(KeptUtterance(transcript, audio))
        self._trim(transcript.end)

    def add_cue(self, cue: FaceCue | VoiceCue | TextCue | EmotionState) -> None:
        if isinstance(cue, FaceCue):
            self.face = cue
        elif isinstance(cue, VoiceCue):
            self.voice = cue
        elif isinstance(cue, TextCue):
            self.text = cue
        else:
            self.emotion = cue
        self.cues.append(cue)
        self._trim(cue.t)

    def add_turn(self, turn: DialogueTurn) -> None:
        self.memory.add(turn)

    def _trim(self, now: float) -> None:
        horizon = now - self.s.window_s
        while self.keyframes and (self.keyframes[0].t < horizon or len(self.keyframes) > self.s.max_keyframes):
            self.keyframes.popleft()
        while self.utterances and (self.utterances[0].transcript.end < horizon or len(self.utterances) > self.s.max_utterances):
            self.utterances.popleft()
        while self.cues and self.cues[0].t < horizon:
            self.cues.popleft()
        while self.bytes_used > self.s.max_bytes and (self.keyframes or len(self.utterances) > 1):
            if self.keyframes and (len(self.utterances) <= 1 or self.keyframes[0].t <= self.utterances[0].transcript.end):
                self.keyframes.popleft()
            else:
                self.utterances.popleft()

    def cue_summary(self, *, voice: VoiceCue | None = None, text: TextCue | None = None,
                    emotion: EmotionState | None = None) -> str:
        """One line saying what the cues say now (the given ones replace the stored), for prompts and the terminal."""
        voice, text, emotion = voice or self.voice, text or self.text, emotion or self.emotion
        parts = []
        if self.face is not None:
            if self.face.face_present:
                expr = f", {self.face.expression}" if self.face.expression else ""
                parts.append(f"face: visible{expr}")
            else:
                parts.append("face: not visible")
        if voice is not None:
            level = "animated" if voice.arousal > 0.25 else "subdued" if voice.arousal < -0.25 else "even"
            parts.append(f"voice: {level} (arousal {voice.arousal:+.2f})")
        if text is not None:
            tone = "positive" if text.valence > 0.05 else "negative" if text.valence < -0.05 else "neutral"
            evidence = ", ".join((*text.appraisal.evidence, *text.appraisal.negated)[:4])
            parts.append(f"words: {tone} ({text.valence:+.2f}{': ' + evidence if evidence else ''})")
        if emotion is not None:
            parts.append(f"overall: {emotion.label} ({emotion.confidence:.0%})")
            if emotion.masking:
                parts.append("likely masking (a smile over negative words)")
            if emotion.guarded:
                parts.append("guarded (reassuring words, sad face)")
            if emotion.conflicts:
                parts.append("conflict: " + "; ".join(emotion.conflicts))
        return "; ".join(parts) or "no cues yet"

    def view(self, t: float, trigger: Trigger, transcript: Transcript | None = None,
             audio: np.ndarray | None = None, *, emotion: EmotionState | None = None,
             voice: VoiceCue | None = None, text_cue: TextCue | None = None, silence_s: float = 0.0) -> BrainView:
        summary, recent = self.memory.render()
        n = self.s.view_keyframes
        frames = tuple(self.keyframes)[-n:] if n else ()
        return BrainView(
            t=t, trigger=trigger, transcript=transcript, utterance_audio=audio, keyframes=frames,
            cue_summary=self.cue_summary(voice=voice, text=text_cue, emotion=emotion),
            emotion=emotion or self.emotion, face=self.face,
            voice=voice or self.voice, text_cue=text_cue or self.text, history=recent,
            history_summary=summary, silence_s=silence_s)
