"""whisper-ct2: the window follows the audio, loops are retried on the full window, segments past the end dropped."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import perception.whisper_ct2 as ct2_module
from floor import SAMPLE_RATE, int16_to_float
from perception.wer import word_error_rate
from perception.settings import AsrSettings
from perception.whisper_ct2 import BUCKET_FRAMES, FULL_FRAMES, CT2WhisperTranscriber, _even_words, _pad_frames, _spoken_tokens


class _Spy:
    """Stands in for the CTranslate2 model: records the frames of each encode; ``loop_first`` makes the next
    ``generate`` answer a looping decode, as Whisper sometimes does on a short window."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.frames: list[int] = []
        self.loop_first = False

    def encode(self, features: Any, **kw: Any) -> Any:
        self.frames.append(features.shape[2])
        return self.model.encode(features, **kw)

    def generate(self, encoded: Any, prompts: list[list[int]], **kw: Any) -> list[Any]:
        if self.loop_first:
            self.loop_first = False
            looped = [50363] + [383, 6193, 373, 13] * 4  # "<|0.00|> The weather was. The weather was. …"
            return [SimpleNamespace(sequences_ids=[looped], scores=[-0.1], no_speech_prob=0.01)]
        return self.model.generate(encoded, prompts, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


@pytest.fixture(scope="module")
def asr() -> CT2WhisperTranscriber:
    transcriber = CT2WhisperTranscriber(AsrSettings())
    transcriber.warm_up()
    return transcriber


@pytest.fixture()
def spy(asr: CT2WhisperTranscriber, monkeypatch: pytest.MonkeyPatch) -> _Spy:
    spy = _Spy(asr._ct2)
    monkeypatch.setattr(asr, "_ct2", spy)
    monkeypatch.setattr(asr, "retries", 0)
    return spy


def test_the_window_is_the_audio_plus_padding_up_to_a_whole_second_not_30_s(asr, spy, speak, sentences) -> None:
    pcm = speak("weather")
    transcript = asr.transcribe(pcm, 2.0)
    assert word_error_rate(sentences["weather"], transcript.text) <= 0.10, transcript.text
    needed = (len(pcm) / SAMPLE_RATE + asr.settings.pad_s) * 100
    assert len(spy.frames) == 1 and spy.frames[0] % BUCKET_FRAMES == 0 and needed <= spy.frames[0] < needed + 100
    assert asr.retries == 0
    assert transcript.language == "en" and transcript.end == pytest.approx(2.0 + len(pcm) / SAMPLE_RATE)


def test_a_looping_decode_is_retried_on_the_full_window(asr, spy, speak, sentences) -> None:
    spy.loop_first = True
    transcript = asr.transcribe(speak("weather"), 0.0)
    assert spy.frames[0] < 1000 and spy.frames[1] == FULL_FRAMES and asr.retries == 1
    assert word_error_rate(sentences["weather"], transcript.text) <= 0.10, transcript.text
    assert len(transcript.words) >= 10


def test_a_partial_pass_answers_empty_instead_of_paying_for_a_retry(asr, spy, speak) -> None:
    spy.loop_first = True
    transcript = asr.transcribe(speak("weather"), 1.0, final=False)
    assert transcript.text == "" and transcript.words == () and not transcript.final
    assert len(spy.frames) == 1 and asr.retries == 0


def test_a_too_tight_token_bound_counts_as_degenerate(spy, speak, monkeypatch) -> None:
    asr = CT2WhisperTranscriber(AsrSettings(tokens_per_s=1.0))
    monkeypatch.setattr(asr, "_ct2", spy)
    monkeypatch.setattr(ct2_module, "BASE_TOKENS", 2)
    asr.transcribe(speak("weather"))
    assert spy.frames[1:] == [FULL_FRAMES] and asr.retries == 1


def test_audio_longer_than_one_window_goes_to_faster_whisper(asr, speak, monkeypatch) -> None:
    calls: list[float] = []
    monkeypatch.setattr(ct2_module, "FULL_FRAMES", 100)
    monkeypatch.setattr(asr._whole, "transcribe", lambda pcm, t0, final: calls.append(t0) or "whole")
    assert asr.transcribe(speak("question"), 4.0) == "whole" and calls == [4.0]


def test_segments_that_start_after_the_audio_are_dropped() -> None:
    ts = 50363  # <|0.00|>; one step is 20 ms

    def at(seconds: float) -> int:
        return ts + round(seconds / 0.02)

    tokens = [at(0), 1, 2, at(1.0), at(1.0), 3, at(2.0), at(3.0), 4, 5, at(4.0)]
    assert _spoken_tokens(tokens, ts, 2.5) == ([1, 2, 3], False)
    assert _spoken_tokens(tokens, ts, 3.5) == ([1, 2, 3, 4, 5], False)  # the closing <|4.00|> opens nothing
    assert _spoken_tokens([at(0), 1, 2], ts, 1.0) == ([1, 2], True)  # ran to the bound inside speech
    assert _spoken_tokens([1, 2], ts, 1.0) == ([1, 2], True)


def test_retry_features_equal_whisper_padding_to_30_s(asr, speak) -> None:
    audio = int16_to_float(speak("question"))
    short = asr._features(np.pad(audio, (0, 2 * SAMPLE_RATE)), padding=0)
    full = asr._features(audio, padding=30 * SAMPLE_RATE)[:, :FULL_FRAMES]
    np.testing.assert_allclose(_pad_frames(short, FULL_FRAMES), full, atol=1e-5)


def test_even_word_times_share_the_voiced_span_by_length() -> None:
    audio = np.zeros(2 * SAMPLE_RATE, np.float32)
    audio[SAMPLE_RATE // 2: 3 * SAMPLE_RATE // 2] = 0.3 * np.sin(np.arange(SAMPLE_RATE) * 0.2)
    words = _even_words(["Hi", "there,", "friend."], audio, 10.0)
    assert [w.text for w in words] == ["Hi", "there,", "friend."]
    assert words[0].start == pytest.approx(10.5) and words[-1].end == pytest.approx(11.5)
    assert words[1].end - words[1].start == pytest.approx(3 * (words[0].end - words[0].start))
    assert _even_words([], audio, 0.0) == []


def test_even_word_times_end_to_end(speak) -> None:
    asr = CT2WhisperTranscriber(AsrSettings(word_times="even"))
    pcm = speak("question")
    transcript = asr.transcribe(pcm, 1.0)
    assert [w.text for w in transcript.words] == transcript.text.split()
    assert 1.0 <= transcript.words[0].start < transcript.words[-1].end <= transcript.end
