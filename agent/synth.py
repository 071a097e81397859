"""Synthetic conversations: user lines spoken by TTS in a voice distinct from the agent's, with exact timing.

Used by the demo and the tests: the ground truth (when each user utterance
really starts and ends) is known to the sample, so what the agent detects
can be checked against it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Sequence

import av
import numpy as np

from speech.sentences import SentenceSplitter
from speech.settings import TtsSettings
from speech.transform import resample, shift_voice
from speech.tts import make_tts
from speech.types import Style, Tts

SR = 16000
USER_SEMITONES = -4.0  # the synthetic user speaks lower than the agent's voice
RENDER_VERSION = 2     # bump when rendering changes, so cached media is rebuilt


@dataclass(frozen=True)
class Line:
    """One user utterance: ``text`` (``"|"`` marks a mid-utterance pause of ``hesitation_s``), then silence."""
    text: str
    pause_after_s: float = 4.0
    hesitation_s: float = 0.0


@dataclass(frozen=True)
class Utterance:
    text: str
    start_s: float
    end_s: float


def _trim(pcm: np.ndarray, threshold: int = 300) -> np.ndarray:
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > threshold)
    return pcm[loud[0]: loud[-1] + 1] if loud.size else pcm[:0]


def _speak(tts: Tts, text: str, sentence_gap_s: float = 0.25) -> np.ndarray:
    """The user saying ``text``, sentence by sentence with a natural short gap (not the synthesizer's padding)."""
    splitter = SentenceSplitter()
    sentences = splitter.push(text) + splitter.flush()
    gap = np.zeros(int(sentence_gap_s * SR), np.int16)
    parts = []
    for i, sentence in enumerate(sentences):
        raw = tts.synthesize(sentence, Style(speed=1.05))
        parts += [gap] * bool(i) + [_trim(resample(shift_voice(raw, tts.sample_rate, USER_SEMITONES), tts.sample_rate, SR))]
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)


def render_audio(lines: Sequence[Line], lead_s: float = 0.8) -> tuple[np.ndarray, list[Utterance]]:
    """The user's side as 16 kHz int16, and the exact span of each spoken piece."""
    tts = make_tts(TtsSettings())
    parts: list[np.ndarray] = [np.zeros(int(lead_s * SR), np.int16)]
    truth: list[Utterance] = []
    cursor = len(parts[0])
    for line in lines:
        for i, piece in enumerate(p.strip() for p in line.text.split("|")):
            if i:
                gap = np.zeros(int(line.hesitation_s * SR), np.int16)
                parts.append(gap)
                cursor += len(gap)
            voiced = _speak(tts, piece)
            truth.append(Utterance(piece, cursor / SR, (cursor + len(voiced)) / SR))
            parts.append(voiced)
            cursor += len(voiced)
        gap = np.zeros(int(line.pause_after_s * SR), np.int16)
        parts.append(gap)
        cursor += len(gap)
    return np.concatenate(parts), truth


def _frames(face: np.ndarray, n: int, size: tuple[int, int]) -> Iterator[np.ndarray]:
    import cv2

    w, h = size
    base = cv2.resize(face, (int(w * 1.2), int(h * 1.2)))
    for i in range(n):
        dx = int((np.sin(i / 25.0) + 1) * 0.5 * (base.shape[1] - w))
        dy = int((np.cos(i / 40.0) + 1) * 0.5 * (base.shape[0] - h))
        yield np.ascontiguousarray(base[dy: dy + h, dx: dx + w])


def write_media(path: Path, pcm: np.ndarray, face: np.ndarray | None = None, fps: int = 10,
                size: tuple[int, int] = (640, 480)) -> Path:
    """An MP4 (H.264 + AAC) when a face image is given, else a 16 kHz WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    if face is None:
        import soundfile as sf

        sf.write(tmp, pcm, SR, subtype="PCM_16", format="WAV")
        tmp.replace(path)
        return path
    with av.open(str(tmp), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "28"}
        aus = out.add_stream("aac", rate=SR, layout="mono")
        n_frames = int(len(pcm) / SR * fps) + 1
        for img in _frames(face, n_frames, size):
            for packet in vs.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        step = 1024
        for i in range(0, len(pcm), step):
            block = pcm[i: i + step]
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = SR
            frame.pts = i
            frame.time_base = Fraction(1, SR)
            for packet in aus.encode(frame):
                out.mux(packet)
        for packet in aus.encode():
            out.mux(packet)
    tmp.replace(path)
    return path


def render_conversation(lines: Sequence[Line], path: str | Path, face: np.ndarray | None = None) -> list[Utterance]:
    """Render ``lines`` to ``path`` and write ``<path>.truth.json`` beside it; returns the ground truth."""
    path = Path(path)
    pcm, truth = render_audio(lines)
    write_media(path, pcm, face)
    Path(str(path) + ".truth.json").write_text(json.dumps([asdict(u) for u in truth], indent=2))
    return truth


def load_truth(path: str | Path) -> list[Utterance]:
    return [Utterance(**u) for u in json.loads(Path(str(path) + ".truth.json").read_text())]

