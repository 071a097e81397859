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
from typing import Callable, Iterator, Sequence

import av
import numpy as np

from floor import SAMPLE_RATE, resample
from speech.sentences import SentenceSplitter
from speech.settings import TtsSettings
from speech.transform import shift_voice
from speech.tts import make_tts
from speech.types import Style, Tts

USER_SEMITONES = -4.0  # the synthetic user speaks lower than the agent's voice
RENDER_VERSION = 4     # bump when rendering changes, so cached media is rebuilt


TRIM_FRACTION = 0.01
"""Speech starts/ends where |sample| first/last reaches this fraction of the utterance's peak."""
CUT_FRAME_S = 0.01
CUT_AFTER_S = 0.6
"""How far after its estimate a hesitation's cut is looked for."""
CUT_QUIET_DB = -40.0
"""A frame this far below the utterance's loudest frame is a pause between words."""

Synth = Callable[[str], np.ndarray]
"""Text -> float32 mono speech at 16 kHz (leading/trailing silence allowed; it is trimmed)."""


def trim(samples: np.ndarray, peak: float | None = None) -> np.ndarray:
    """The span from the first to the last sample reaching TRIM_FRACTION of ``peak`` (default: its own peak)."""
    mag = np.abs(samples)
    peak = (float(mag.max()) if len(mag) else 0.0) if peak is None else peak
    loud = np.flatnonzero(mag >= peak * TRIM_FRACTION) if peak > 0 else np.zeros(0, dtype=int)
    if not len(loud):
        raise ValueError("synthesized utterance is silent")
    return samples[loud[0]:loud[-1] + 1]


def _continuation(fragment: str) -> str:
    """The fragment as synthesized inside the whole sentence: a colon where it breaks off mid-sentence.

    The voice pauses at a colon without ending the sentence, so the cut gets a gap to fall in right after
    the fragment's last word (after a comma or nothing, hibari runs "and I" together and often pauses
    before the conjunction instead). A fragment that ends a sentence keeps its own punctuation.
    """
    if fragment.endswith((".", "!", "?", "…")):
        return fragment
    return fragment.rstrip(" ,;:—-") + ":"


def find_cut(whole: np.ndarray, estimate: int, lower: int = 0) -> int:
    """Where to cut ``whole`` after sample ``estimate``: the middle of the longest pause (a run of quiet
    CUT_FRAME_S frames, counted whole) that ends after the estimate and starts within CUT_AFTER_S of it, else
    the quietest frame there; never before ``lower``.

    The estimate (the prefix synthesized alone) falls 0-0.45 s before the prefix's end in the whole sentence;
    a pause that ends before it is one inside the prefix (the comma in "last month, and").
    """
    frame = round(CUT_FRAME_S * SAMPLE_RATE)
    count = len(whole) // frame
    energy = np.mean(np.square(whole[:count * frame].reshape(count, frame), dtype=np.float64), axis=1)
    level_db = 10 * np.log10(np.maximum(energy, 1e-20) / max(float(energy.max()), 1e-20))
    lo = max(estimate, lower + frame, frame) // frame
    hi = min(estimate + round(CUT_AFTER_S * SAMPLE_RATE), len(whole) - frame) // frame
    if hi <= lo:
        raise ValueError(f"no room to cut after {estimate / SAMPLE_RATE:.2f} s in a "
                         f"{len(whole) / SAMPLE_RATE:.2f} s utterance")
    quiet = np.concatenate(([False], level_db < CUT_QUIET_DB, [False]))
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    runs = [(end - start, start, end) for start, end in zip(edges[0::2], edges[1::2]) if start < hi and end > lo]
    if runs:
        _, start, end = max(runs)
        middle = min(max((start + end) / 2, lo), hi)
    else:
        middle = lo + int(np.argmin(level_db[lo:hi])) + 0.5
    return round(middle * frame)


def speak_turn(texts: list[str], synth: Synth) -> list[np.ndarray]:
    """A turn's fragments (float, trimmed, at one level), all cut from ONE synthesis of the joined sentence.

    A TTS voice reads a fragment synthesized alone as a finished sentence; cut from the whole, it ends on a
    continuation, as a person's does when they hesitate mid-clause. The prefix up to each cut, synthesized
    alone, estimates where in the whole that cut falls.
    """
    if len(texts) == 1:
        return [trim(synth(texts[0]))]
    marked = [_continuation(t) for t in texts[:-1]] + [texts[-1]]
    whole = trim(synth(" ".join(marked)))
    peak = float(np.max(np.abs(whole)))
    cuts: list[int] = []
    for k in range(1, len(texts)):
        estimate = len(trim(synth(" ".join(marked[:k]))))
        cuts.append(find_cut(whole, estimate, lower=cuts[-1] + 1 if cuts else 0))
    fragments = []
    for text, part in zip(texts, np.split(whole, cuts)):
        try:
            fragments.append(trim(part, peak))
        except ValueError:
            raise ValueError(f"cutting {' / '.join(texts)!r}: the fragment {text!r} came out silent") from None
    return fragments


@dataclass(frozen=True)
class Line:
    """One user utterance: ``text`` (``"|"`` marks a mid-utterance pause of ``hesitation_s``), then silence.

    A line with pauses is spoken as one sentence and cut at them (:func:`speak_turn`), so each piece ends
    mid-sentence as a hesitating person's does.
    """
    text: str
    pause_after_s: float = 4.0
    hesitation_s: float = 0.0


@dataclass(frozen=True)
class Utterance:
    text: str
    start_s: float
    end_s: float


def _voice(tts: Tts) -> Synth:
    """The synthetic user's voice as a :data:`Synth` (int16 at 16 kHz)."""
    return lambda text: resample(shift_voice(tts.synthesize(text, Style(speed=1.05)), tts.sample_rate, USER_SEMITONES),
                                 tts.sample_rate, SAMPLE_RATE)


def _speak(tts: Tts, text: str, sentence_gap_s: float = 0.25) -> np.ndarray:
    """The user saying ``text``, sentence by sentence with a natural short gap (not the synthesizer's padding)."""
    splitter = SentenceSplitter()
    sentences = splitter.push(text) + splitter.flush()
    gap = np.zeros(int(sentence_gap_s * SAMPLE_RATE), np.int16)
    parts = []
    for i, sentence in enumerate(sentences):
        parts += [gap] * bool(i) + [trim(_voice(tts)(sentence))]
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)


def render_audio(lines: Sequence[Line], lead_s: float = 0.8) -> tuple[np.ndarray, list[Utterance]]:
    """The user's side as 16 kHz int16, and the exact span of each spoken piece."""
    tts = make_tts(TtsSettings())
    parts: list[np.ndarray] = [np.zeros(int(lead_s * SAMPLE_RATE), np.int16)]
    truth: list[Utterance] = []
    cursor = len(parts[0])
    for line in lines:
        pieces = [p.strip() for p in line.text.split("|")]
        spoken = [_speak(tts, pieces[0])] if len(pieces) == 1 else speak_turn(pieces, _voice(tts))
        for i, (piece, voiced) in enumerate(zip(pieces, spoken)):
            if i:
                gap = np.zeros(int(line.hesitation_s * SAMPLE_RATE), np.int16)
                parts.append(gap)
                cursor += len(gap)
            truth.append(Utterance(piece, cursor / SAMPLE_RATE, (cursor + len(voiced)) / SAMPLE_RATE))
            parts.append(voiced)
            cursor += len(voiced)
        gap = np.zeros(int(line.pause_after_s * SAMPLE_RATE), np.int16)
        parts.append(gap)
        cursor += len(gap)
    return np.concatenate(parts), truth


Picture = Callable[[float], np.ndarray]
"""Media time in seconds -> the scene then (BGR, :func:`scene_size` of the video): the camera films part of it."""
SCENE_SCALE = 1.2
"""The scene is this much larger than the video: a hand-held camera drifts slowly over it."""


def scene_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size of the scene a video of ``size`` is filmed from."""
    return int(size[0] * SCENE_SCALE), int(size[1] * SCENE_SCALE)


def _frames(face: np.ndarray | Picture, n: int, fps: int, size: tuple[int, int]) -> Iterator[np.ndarray]:
    """A hand-held camera's view of a still face or a moving one: a window of ``size`` drifting over the scene."""
    import cv2

    w, h = size
    still = None if callable(face) else cv2.resize(face, scene_size(size))
    for i in range(n):
        scene = still if still is not None else face(i / fps)
        dx = int((np.sin(i / 25.0) + 1) * 0.5 * (scene.shape[1] - w))
        dy = int((np.cos(i / 40.0) + 1) * 0.5 * (scene.shape[0] - h))
        yield np.ascontiguousarray(scene[dy: dy + h, dx: dx + w])


def write_media(path: Path, pcm: np.ndarray, face: np.ndarray | Picture | None = None, fps: int = 10,
                size: tuple[int, int] = (640, 480)) -> Path:
    """An MP4 (H.264 + AAC), or a Matroska file with lossless PCM audio for a ``.mkv`` path, when a face is given
    (a still image, or a :data:`Picture` of ``size``); else a 16 kHz WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    if face is None:
        import soundfile as sf

        sf.write(tmp, pcm, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        tmp.replace(path)
        return path
    with av.open(str(tmp), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "28"}
        aus = out.add_stream("pcm_s16le" if path.suffix == ".mkv" else "aac", rate=SAMPLE_RATE, layout="mono")
        n_frames = int(len(pcm) / SAMPLE_RATE * fps) + 1
        step = 1024
        sent = 0  # audio samples muxed so far: audio and video go out interleaved in time, as a camera records

        def audio_until(end: int) -> None:
            nonlocal sent
            while sent < min(end, len(pcm)):
                frame = av.AudioFrame.from_ndarray(pcm[sent: sent + step].reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, sent, Fraction(1, SAMPLE_RATE)
                for packet in aus.encode(frame):
                    out.mux(packet)
                sent += step

        for k, img in enumerate(_frames(face, n_frames, fps, size)):
            audio_until(round(k * SAMPLE_RATE / fps))
            for packet in vs.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        audio_until(len(pcm))
        for packet in aus.encode():
            out.mux(packet)
    tmp.replace(path)
    return path


def render_conversation(lines: Sequence[Line], path: str | Path, face: np.ndarray | None = None) -> list[Utterance]:
    """Render ``lines`` to ``path`` and write ``<path>.truth.json`` beside it; returns the ground truth."""
    path = Path(path)
    pcm, truth = render_audio(lines)
    write_media(path, pcm, face)
    save_truth(path, truth)
    return truth


def save_truth(path: str | Path, truth: Sequence[Utterance]) -> None:
    """Write ``<path>.truth.json``: when each spoken piece of the media at ``path`` starts and ends."""
    Path(str(path) + ".truth.json").write_text(json.dumps([asdict(u) for u in truth], indent=2))


def load_truth(path: str | Path) -> list[Utterance]:
    return [Utterance(**u) for u in json.loads(Path(str(path) + ".truth.json").read_text())]

