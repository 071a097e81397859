"""Incremental transcription: agreement and quiet-gap cuts (pure, scripted), then the real tiny.en on a long turn."""
from __future__ import annotations

import numpy as np
import pytest

from floor import SAMPLE_RATE
from perception.asr import make_transcriber
from perception.wer import word_error_rate
from perception.incremental import (IncrementalTranscriber, Settled, agreed_prefix, frame_db, quiet_point,
                                    settle)
from perception.settings import AsrSettings
from perception.types import Transcript, Word


def _words(*spec: tuple[str, float, float]) -> tuple[Word, ...]:
    return tuple(Word(text, start, end) for text, start, end in spec)


def _speech(seconds: float, spans: list[tuple[float, float]]) -> np.ndarray:
    """A tone where ``spans`` say, digital silence elsewhere: int16 at 16 kHz."""
    pcm = np.zeros(round(seconds * SAMPLE_RATE), np.int16)
    for start, end in spans:
        a, b = round(start * SAMPLE_RATE), round(end * SAMPLE_RATE)
        pcm[a:b] = (8000 * np.sin(np.arange(b - a) * 0.3)).astype(np.int16)
    return pcm


SCRIPT = _words(("So", 0.1, 0.3), ("last", 0.35, 0.6), ("weekend,", 0.65, 1.0),  # pause 1.0-1.4
                ("I", 1.4, 1.5), ("went", 1.55, 1.8), ("out.", 1.85, 2.2))
AUDIO = _speech(3.0, [(w.start, w.end) for w in SCRIPT])


class _Scripted:
    """A transcriber that hears the scripted words lying wholly inside the audio it is given."""

    def __init__(self, script: tuple[Word, ...] = SCRIPT) -> None:
        self.script = script
        self.calls: list[tuple[float, float, bool]] = []

    def transcribe(self, pcm: np.ndarray, t0: float = 0.0, final: bool = True) -> Transcript:
        end = t0 + len(pcm) / SAMPLE_RATE
        self.calls.append((round(t0, 3), round(end, 3), final))
        words = tuple(w for w in self.script if w.start >= t0 - 1e-9 and w.end <= end + 1e-9)
        return Transcript(" ".join(w.text for w in words), t0, end, words, final)


def test_agreement_ignores_case_and_punctuation() -> None:
    a = _words(("The", 0, 1), ("weather", 1, 2), ("was.", 2, 3))
    b = _words(("the", 0, 1), ("Weather,", 1, 2), ("is", 2, 3))
    assert agreed_prefix(a, b) == 2 and agreed_prefix(a, a[:1]) == 1 and agreed_prefix((), b) == 0


def test_a_quiet_point_needs_80_ms_of_silence() -> None:
    levels = frame_db(_speech(1.0, [(0.0, 0.40), (0.45, 0.6), (0.75, 1.0)]))
    assert quiet_point(levels, 0.3, 0.55) is None  # a 50 ms gap is inside a phrase
    assert quiet_point(levels, 0.5, 0.85) == pytest.approx(0.675, abs=0.01)  # the middle of the 0.6-0.75 pause
    assert quiet_point(levels, 0.9, 0.91) is None
    assert quiet_point(frame_db(np.zeros(100, np.int16)), 0.0, 1.0) is None  # under one frame of audio


def test_settle_cuts_at_the_last_quiet_gap_after_agreed_words() -> None:
    levels = frame_db(AUDIO[: 2 * SAMPLE_RATE])
    previous, current = SCRIPT[:4], SCRIPT[:5]
    assert settle(previous, current, levels, 0.0) == Settled(SCRIPT[:3], pytest.approx(1.2, abs=0.15))
    assert settle((), current, levels, 0.0) is None  # nothing agreed yet
    assert settle(SCRIPT[:2], current, levels, 0.0) is None  # agreed words, but no pause after them
    assert settle(previous, SCRIPT[:3], levels, 0.0) is None  # no word heard after the pause yet


def test_updates_keep_agreed_words_and_finish_transcribes_only_the_tail() -> None:
    script = tuple(Word(w.text, w.start + 10, w.end + 10) for w in SCRIPT)
    asr = _Scripted(script)
    inc = IncrementalTranscriber(asr, t0=10.0)
    first = inc.update(AUDIO[: SAMPLE_RATE])
    assert first.text == "So last weekend," and not first.final and inc.cut == 10.0 and inc.kept == ()
    second = inc.update(AUDIO[: 2 * SAMPLE_RATE])
    assert second.text == "So last weekend, I went" and inc.kept == script[:3]
    assert inc.cut == pytest.approx(11.2, abs=0.05), "the middle of the pause after 'weekend,'"
    final = inc.finish(AUDIO)
    assert final.text == "So last weekend, I went out." and final.final
    assert final.words == script and final.start == 10.0 and final.end == pytest.approx(13.0)
    assert asr.calls == [(10.0, 11.0, False), (10.0, 12.0, False), (pytest.approx(inc.cut), 13.0, True)]
    assert inc.finish(AUDIO).text == final.text  # finish settles nothing: it may be called again
    with pytest.raises(ValueError, match=r"ends before the cut .*new IncrementalTranscriber per turn"):
        inc.update(AUDIO[: SAMPLE_RATE // 2])


def test_a_word_heard_differently_twice_is_not_kept() -> None:
    inc = IncrementalTranscriber(_Scripted())
    inc.update(AUDIO[: 2 * SAMPLE_RATE])
    inc.transcriber = _Scripted(_words(("So", 0.1, 0.3), ("fast", 0.35, 0.6), ("weekend,", 0.65, 1.0),
                                       ("I", 1.4, 1.5), ("went", 1.55, 1.8), ("out.", 1.85, 2.2)))
    inc.update(AUDIO)
    assert inc.kept == () and inc.cut == 0.0


def test_a_long_turn_fed_every_second_ends_with_a_short_tail(speak, sentences) -> None:
    asr = make_transcriber(AsrSettings())
    pcm = speak("long")
    inc = IncrementalTranscriber(asr, t0=3.0)
    for second in range(1, len(pcm) // SAMPLE_RATE + 1):
        inc.update(pcm[: second * SAMPLE_RATE])
    final = inc.finish(pcm)
    whole = asr.transcribe(pcm, 3.0)
    assert inc.cut - 3.0 > len(pcm) / SAMPLE_RATE / 2, "at least half the turn is settled before the pause"
    assert word_error_rate(sentences["long"], final.text) <= word_error_rate(sentences["long"], whole.text) + 0.05
    assert all(a.start <= b.start for a, b in zip(final.words, final.words[1:]))
