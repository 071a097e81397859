"""Transcription while the user speaks: words two passes agree on are kept, so only the tail is left at the pause.

The session feeds :class:`IncrementalTranscriber` the growing audio of the current user turn every
~1 s (``asr.incremental_interval_s``). Each pass transcribes the audio after the cut; the leading
words this pass and the one before it agree on (local agreement, as in whisper_streaming) are
settled, and the cut moves to the last quiet gap between settled words. Cutting only in silence
matters: Whisper's word times mark onsets late, and a cut at a word's aligned start clips it (cut
there, "my mother is getting older" lost "mother" on the test corpus). At the pause
:meth:`IncrementalTranscriber.finish` transcribes only the audio after the cut. The agreement and
the gap search are pure functions (:func:`agreed_prefix`, :func:`quiet_point`, :func:`settle`), tested
without a model. The backend's word times must be real: whisper-ct2 with ``asr.word_times = "align"``,
faster-whisper, or a server that returns word timestamps.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from floor import SAMPLE_RATE
from perception.wer import normalize_words
from perception.transcriber import Transcriber, check_pcm
from perception.types import Transcript, Word

QUIET_DB = -40.0
"""A gap is quiet where QUIET_FRAMES of audio stay this far below the loudest 10 ms of the audio searched."""
FRAME_S = 0.01
QUIET_FRAMES = 8
"""80 ms: a pause between phrases, not the closure before a plosive inside one (3 frames at -35 dB cut "what" off
"tell me what" on the test corpus; 8 at -40 dB matched the full-turn WER there)."""
SEARCH_S = 0.1
"""The quiet stretch is looked for from this long before a word's aligned end to this long after the next one's start."""


def agreed_prefix(previous: Sequence[Word], current: Sequence[Word]) -> int:
    """How many leading words two hypotheses share, compared without case or punctuation."""
    n = 0
    for a, b in zip(previous, current):
        if normalize_words(a.text) != normalize_words(b.text):
            break
        n += 1
    return n


def frame_db(pcm: np.ndarray) -> np.ndarray:
    """Level of each 10 ms frame in dB relative to the loudest one (0 dB at the peak; digital silence very low)."""
    hop = round(FRAME_S * SAMPLE_RATE)
    frames = pcm[: len(pcm) // hop * hop].astype(np.float64).reshape(-1, hop)
    power = np.mean(frames**2, axis=1) + 1e-3  # floor: below one LSB² all silence is alike
    return 10 * np.log10(power / power.max()) if len(power) else power


def quiet_point(levels: np.ndarray, start: float, end: float) -> float | None:
    """The middle of the quiet stretch (runs of QUIET_FRAMES frames all at or below QUIET_DB) around the quietest
    point between ``start`` and ``end`` (seconds into the audio ``levels`` came from), or None when none is quiet."""
    first, last = max(0, int(start / FRAME_S)), min(len(levels), int(np.ceil(end / FRAME_S)))
    if last - first < QUIET_FRAMES:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(levels[first:last], QUIET_FRAMES).max(axis=1)
    quiet = windows <= QUIET_DB
    lo = hi = int(np.argmin(windows))
    if not quiet[lo]:
        return None
    while lo > 0 and quiet[lo - 1]:
        lo -= 1
    while hi + 1 < len(quiet) and quiet[hi + 1]:
        hi += 1
    return (first + (lo + hi) / 2 + QUIET_FRAMES / 2) * FRAME_S


@dataclass(frozen=True)
class Settled:
    """What one pass settles: the words before the new cut, and the cut (seconds into the pass's audio)."""
    words: tuple[Word, ...]
    cut: float


def settle(previous: Sequence[Word], current: Sequence[Word], levels: np.ndarray, t0: float) -> Settled | None:
    """The last quiet gap after a word both passes agree on and before a word of ``current``, or None.

    Words carry session times; ``levels`` (:func:`frame_db`) cover the pass's audio, which starts at ``t0``.
    """
    agreed = agreed_prefix(previous, current)
    for i in range(min(agreed, len(current) - 1), 0, -1):
        gap = quiet_point(levels, current[i - 1].end - t0 - SEARCH_S, current[i].start - t0 + SEARCH_S)
        if gap is not None:
            return Settled(tuple(current[:i]), gap)
    return None


class IncrementalTranscriber:
    """One user turn transcribed while it grows; every call is blocking (run it in the asr lane).

    ``pcm`` is always the whole turn so far (1-D int16 at 16 kHz, starting at ``t0`` on the session timeline),
    each call's at least as long as the last; make a new one for the next turn.
    """

    def __init__(self, transcriber: Transcriber, t0: float = 0.0) -> None:
        self.transcriber = transcriber
        self.t0 = t0
        self.cut = t0
        """Session time from which the audio is still to be transcribed."""
        self.kept: tuple[Word, ...] = ()
        """The settled words before the cut."""
        self._previous: tuple[Word, ...] = ()

    def update(self, pcm: np.ndarray) -> Transcript:
        """Transcribe the audio after the cut and settle what agrees with the last pass; returns the kept words
        followed by this pass's hypothesis (``final=False``)."""
        kept = self.kept
        tail, audio = self._tail(pcm, final=False)
        settled = settle(self._previous, tail.words, frame_db(audio), self.cut)
        if settled is None:
            self._previous = tail.words
        else:
            self.kept += settled.words
            self._previous = tail.words[len(settled.words):]
            self.cut += settled.cut
        return self._joined(kept, tail)

    @property
    def settled_text(self) -> str:
        """The settled words as the turn's final text will begin (what a brain may start reading early)."""
        return " ".join(w.text for w in self.kept).strip()

    def finish(self, pcm: np.ndarray) -> Transcript:
        """The turn's transcript: the kept words plus a transcription of the audio after the cut (``final=True``).

        It settles nothing, so a speculative ``finish`` at a pause may be followed by more ``update`` calls."""
        return self._joined(self.kept, self._tail(pcm, final=True)[0])

    def _tail(self, pcm: np.ndarray, final: bool) -> tuple[Transcript, np.ndarray]:
        check_pcm(pcm)
        start = round((self.cut - self.t0) * SAMPLE_RATE)
        if start > len(pcm):
            raise ValueError(f"incremental transcription: the turn's audio ({len(pcm) / SAMPLE_RATE:.2f} s) ends "
                             f"before the cut ({self.cut - self.t0:.2f} s); use a new IncrementalTranscriber per turn")
        audio = pcm[start:]
        return self.transcriber.transcribe(audio, self.cut, final), audio

    def _joined(self, kept: tuple[Word, ...], tail: Transcript) -> Transcript:
        text = " ".join([w.text for w in kept] + [tail.text]).strip()
        return Transcript(text=text, start=self.t0, end=tail.end, words=kept + tail.words, final=tail.final,
                          language=tail.language)
