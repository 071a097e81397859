"""The agent variant's perception: the runtime's own transcript and cue summary of an item's media, as prompt text."""
from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from benchmarks.humansense.media import Prepared
from floor import SAMPLE_RATE
from perception.settings import AsrSettings, ExpressionSettings, FaceSettings, VisionSettings, VoiceSettings

FaceSummary = Callable[[tuple[bytes, ...]], str]


class FaceSummarizer:
    """The runtime's face and expression cues over an item's sampled frames, as one line."""

    def __init__(self, vision: VisionSettings = VisionSettings(), face: FaceSettings = FaceSettings(),
                 expression: ExpressionSettings = ExpressionSettings()) -> None:
        self.settings = (vision, face, expression)

    def __call__(self, frames: tuple[bytes, ...]) -> str:
        import cv2

        from perception.vision import FaceAnalyzer

        analyzer = FaceAnalyzer(*self.settings)
        cues = []
        for i, jpeg in enumerate(frames):
            image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            if image is not None:
                cues.append(analyzer.analyze(image, float(i)))
        seen = [c for c in cues if c.faces]  # detections, not tracking: sampled frames are seconds apart
        if not seen:
            return f"no face found in {len(cues)} frames."
        labels = [c.expression for c in seen if c.expression]
        top = max(set(labels), key=labels.count) if labels else None
        line = f"a face in {len(seen)} of {len(cues)} frames (up to {max(c.faces for c in cues)} at once)"
        return line + (f", mostly {top}." if top else ".")


class AgentPerception:
    """Callable on a prepared item: transcript (perception.asr), word sentiment and voice prosody, plus faces if given.

    Models load on first use; calls are serialized (one Whisper model, shared).
    ``face_summary`` turns the item's JPEG frames into one line (e.g. the runtime's
    face and expression cues); without it the summary says nothing about faces.
    """

    def __init__(self, asr: AsrSettings = AsrSettings(), voice: VoiceSettings = VoiceSettings(),
                 face_summary: FaceSummary | None = None) -> None:
        self.asr_settings = asr
        self.voice_settings = voice
        self.face_summary = face_summary
        self._lock = threading.Lock()
        self._models: tuple[Any, Any] | None = None

    def _load(self) -> tuple[Any, Any]:
        if self._models is None:
            from perception.asr import make_transcriber
            from perception.sentiment import SentimentAnalyzer

            self._models = (make_transcriber(self.asr_settings), SentimentAnalyzer())
        return self._models

    def __call__(self, media: Prepared) -> str:
        from perception.prosody import VoiceAnalyzer

        lines: list[str] = []
        if self.face_summary is not None and media.frames:
            lines.append("Faces: " + self.face_summary(media.frames))
        audio = media.audio if media.audio is not None else np.zeros(0, dtype=np.int16)
        if audio.size == 0:
            lines.append("Speech: none heard.")
            return "\n".join(lines)
        with self._lock:
            transcriber, sentiment = self._load()
            transcript = transcriber.transcribe(audio)
        duration = audio.size / SAMPLE_RATE
        lines.append(f"Transcript (our ASR): {transcript.text or '(no words recognised)'}")
        if transcript.text:
            cue = sentiment.analyze(transcript.text, duration)
            lines.append(f"Word sentiment: valence {cue.valence:+.2f} (VADER compound, -1..1).")
        voice = VoiceAnalyzer(self.voice_settings).analyze(audio, 0.0, duration, transcript.words)
        pitch = f"{voice.pitch_median_hz:.0f} Hz" if voice.pitch_median_hz is not None else "unvoiced"
        rate = f"{voice.speaking_rate_wps:.1f} words/s" if voice.speaking_rate_wps is not None else "unknown rate"
        lines.append(f"Voice: {voice.energy_db:.0f} dB, median pitch {pitch}, {rate}.")
        return "\n".join(lines)
