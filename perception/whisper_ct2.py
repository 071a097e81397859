"""Whisper through CTranslate2 on a window as long as the audio (not 30 s), with loop detection and a full-window retry.

faster-whisper pads every call to Whisper's 30 s window, so a 2 s turn costs as much as a 30 s one
(~370 ms against ~90 ms here for 1.75 s on two loaded cores). CTranslate2 (its engine) accepts fewer
frames: the window here is the audio plus ``asr.pad_s`` of silence. Short windows sometimes make
Whisper loop ("Yes. Yes. Yes."), so decoding is bounded by the audio's length and run with timestamps:
a segment that starts after the audio ended is dropped (there is nothing there to say; with 2 s of
padding Whisper often repeats the sentence at made-up times past the end). The rest is checked by
:mod:`perception.degenerate` and, when degenerate, decoded once more on the full 3000-frame window.
A decode of likely silence is dropped, as faster-whisper does. Audio longer than one window goes to
faster-whisper's own windowing. Word times come from CTranslate2's cross-attention alignment (as
faster-whisper's ``word_timestamps``; ~10 ms a call), or, with ``asr.word_times = "even"``, the voiced
span is shared out by word length (approximate: fine for a speaking rate, not for cutting audio).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import ctranslate2
import numpy as np
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import merge_punctuations

from floor import SAMPLE_RATE, int16_to_float
from perception.faster_whisper_asr import WhisperTranscriber
from perception.degenerate import degenerate_reason, is_silence
from perception.settings import AsrSettings
from perception.transcriber import MIN_AUDIO_S, check_pcm, duration, empty_transcript
from perception.types import Transcript, Word

logger = logging.getLogger(__name__)

FRAMES_PER_S = 100
"""Whisper's log-mel frames per second (hop 160 at 16 kHz)."""
FULL_FRAMES = 3000
"""Whisper's 30 s window, in frames."""
BUCKET_FRAMES = 100
"""Windows are padded up to a whole second: CTranslate2 keeps a buffer for every shape it has seen, so windows of
any length grew the process by ~1 MB a call (a server soak: +237 MB in 30 min); 30 shapes bound it."""
BASE_TOKENS = 16
"""Tokens allowed on top of ``asr.tokens_per_s`` per second: the timestamps and a short answer to a short clip."""
TIME_PRECISION_S = 0.02
"""Seconds per Whisper timestamp token."""
END_MARGIN_S = 0.1
"""A segment must start at least this long before the audio ends to hold a word."""
VOICED_DB = -30.0
"""``word_times = "even"``: 10 ms frames within this many dB of the loudest frame count as voiced."""
_LOG_MEL_FLOOR = -1.5
"""Whisper's scaled log-mel value of silence, (log10(1e-10) + 4) / 4, where the dynamic-range clip does not bind."""


@dataclass(frozen=True)
class Decode:
    """One decoding pass: the spoken text tokens kept, whether it must be retried (and why), on how many frames."""
    tokens: tuple[int, ...]
    text: str
    frames: int
    degenerate: str | None


class CT2WhisperTranscriber:
    """Whisper on a window sized to the audio; ``transcribe`` is a blocking call (run it in the asr lane).

    ``retries`` counts the calls that were retried on the full window (for the benchmarks).
    """

    def __init__(self, settings: AsrSettings) -> None:
        self.settings = settings
        self.name = f"whisper-ct2:{settings.model}"
        # One load serves both paths: faster-whisper's model object holds the CTranslate2 model, its feature
        # extractor and tokenizer, and transcribes audio longer than one window.
        self._whole = WhisperTranscriber(settings)
        self.load_seconds = self._whole.load_seconds
        self._ct2 = self._whole.model.model
        self._features = self._whole.model.feature_extractor
        # English-only models (tiny.en) take no language token; a multilingual one detects it when asked to.
        self._detect = settings.language in ("", "auto") and self._ct2.is_multilingual
        self._language = settings.language if self._ct2.is_multilingual and not self._detect else "en"
        self._tokenizers: dict[str, Tokenizer] = {}
        if not self._detect:
            self._tokenizer(self._language)  # a bad asr.language fails here, at load
        self.retries = 0

    def transcribe(self, pcm: np.ndarray, t0: float = 0.0, final: bool = True) -> Transcript:
        """Words carry absolute times (``t0`` + offset in ``pcm``), clamped to the clip.

        A degenerate decode is retried on the full window when ``final``; a partial pass (``final=False``, e.g.
        incremental transcription while the user speaks) answers empty instead, so it never costs a retry.
        """
        check_pcm(pcm)
        seconds = duration(pcm)
        if seconds < MIN_AUDIO_S:
            return empty_transcript(pcm, t0, final, self._language)
        if seconds * FRAMES_PER_S > FULL_FRAMES:
            return self._whole.transcribe(pcm, t0, final)
        audio = int16_to_float(pcm)
        features = self._features(np.pad(audio, (0, round(self.settings.pad_s * SAMPLE_RATE))), padding=0)
        features = features[:, :FULL_FRAMES]
        features = _pad_frames(features, min(FULL_FRAMES, math.ceil(features.shape[1] / BUCKET_FRAMES) * BUCKET_FRAMES))
        encoded, tokenizer = self._encode(features)
        decode = self._decode(encoded, tokenizer, seconds, features.shape[1])
        if decode.degenerate and not final:
            return empty_transcript(pcm, t0, final, tokenizer.language_code)
        if decode.degenerate and decode.frames < FULL_FRAMES:
            logger.info("whisper-ct2: %s on %d frames; retrying on the full window", decode.degenerate, decode.frames)
            self.retries += 1
            encoded, tokenizer = self._encode(_pad_frames(features, FULL_FRAMES))
            decode = self._decode(encoded, tokenizer, seconds, FULL_FRAMES)
        content_frames = min(math.ceil(seconds * FRAMES_PER_S), FULL_FRAMES)
        if self.settings.word_times == "align":
            words = self._aligned_words(decode, encoded, tokenizer, content_frames, t0, seconds)
        else:
            words = _even_words(_word_texts(decode, tokenizer), audio, t0)
        return Transcript(text=decode.text, start=t0, end=t0 + seconds, words=tuple(words), final=final,
                          language=tokenizer.language_code)

    def warm_up(self) -> None:
        """One call on a short and one on a full window, so neither path pays lazy initialisation later."""
        noise = (np.random.default_rng(0).standard_normal(SAMPLE_RATE) * 300).astype(np.int16)
        self.transcribe(noise)
        encoded, tokenizer = self._encode(np.full((self._ct2.n_mels, FULL_FRAMES), _LOG_MEL_FLOOR, np.float32))
        self._decode(encoded, tokenizer, 1.0, FULL_FRAMES)

    def _encode(self, features: np.ndarray) -> tuple[ctranslate2.StorageView, Tokenizer]:
        encoded = self._ct2.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])))
        language = self._ct2.detect_language(encoded)[0][0][0].strip("<|>") if self._detect else self._language
        return encoded, self._tokenizer(language)

    def _tokenizer(self, language: str) -> Tokenizer:
        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(self._whole.model.hf_tokenizer, self._ct2.is_multilingual,
                                                   task="transcribe", language=language)
        return self._tokenizers[language]

    def _decode(self, encoded: ctranslate2.StorageView, tokenizer: Tokenizer, seconds: float, frames: int) -> Decode:
        prompt = list(tokenizer.sot_sequence)
        budget = BASE_TOKENS + math.ceil(self.settings.tokens_per_s * seconds)
        # CTranslate2 4.x stops Whisper at max_length // 2 generated tokens (measured), so the bound is doubled;
        # reaching ``budget`` is what counts as a runaway.
        result = self._ct2.generate(encoded, [prompt], beam_size=self.settings.beam_size,
                                    max_length=2 * (budget + len(prompt)), return_scores=True,
                                    return_no_speech_prob=True)[0]
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)  # as faster-whisper recovers it
        if is_silence(result.no_speech_prob, avg_logprob):
            tokens = []
        spoken, last_kept = _spoken_tokens(tokens, tokenizer.timestamp_begin, seconds)
        text = tokenizer.decode(spoken).strip()
        reason = degenerate_reason(text, hit_limit=len(tokens) >= budget and last_kept,
                                   no_speech_prob=result.no_speech_prob,
                                   compression_ratio_max=self.settings.compression_ratio_max)
        return Decode(tokens=tuple(spoken), text=text, frames=frames, degenerate=reason)

    def _aligned_words(self, decode: Decode, encoded: ctranslate2.StorageView, tokenizer: Tokenizer,
                       content_frames: int, t0: float, seconds: float) -> list[Word]:
        """Word times from the alignment heads' attention, as faster-whisper's ``find_alignment`` computes them."""
        if not decode.tokens:
            return []
        tokens = list(decode.tokens)
        result = self._ct2.align(encoded, tokenizer.sot_sequence, [tokens], content_frames)[0]
        text_indices = np.array([pair[0] for pair in result.alignments])
        time_indices = np.array([pair[1] for pair in result.alignments])
        words, word_tokens = tokenizer.split_to_word_tokens(tokens + [tokenizer.eot])
        boundaries = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
        jumps = np.pad(np.diff(text_indices), (1, 0), constant_values=1).astype(bool)
        jump_times = time_indices[jumps] / (FRAMES_PER_S / 2)  # the encoder halves the frame rate
        probs = result.text_token_probs
        timings = [{"word": w, "tokens": t, "start": float(jump_times[i]), "end": float(jump_times[j]),
                    "probability": float(np.mean(probs[i:j]))}
                   for w, t, i, j in zip(words, word_tokens, boundaries[:-1], boundaries[1:])]
        merge_punctuations(timings, "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、")  # faster-whisper's defaults
        end = t0 + seconds
        out = []
        for w in timings:
            if w["word"].strip():
                start = min(t0 + w["start"], end)
                out.append(Word(w["word"].strip(), start, min(max(t0 + w["end"], start), end), w["probability"]))
        return out


def _spoken_tokens(tokens: list[int], timestamp_begin: int, seconds: float) -> tuple[list[int], bool]:
    """The text tokens of the segments that start before the audio ends (timestamps dropped), and whether the
    last segment was one of them (when it was not, a decode that ran to its bound looped in the padding).

    Every timestamp closes the text before it and opens the segment after it (Whisper writes
    ``<|0.00|> text<|2.00|><|2.00|> more<|3.00|>``; an unterminated last segment counts by its start).
    """
    kept: list[int] = []
    segment: list[int] = []
    start = 0.0
    for token in tokens:
        if token < timestamp_begin:
            segment.append(token)
            continue
        if segment and start < seconds - END_MARGIN_S:
            kept += segment
        segment, start = [], (token - timestamp_begin) * TIME_PRECISION_S
    last_kept = start < seconds - END_MARGIN_S
    if segment and last_kept:
        kept += segment
    return kept, last_kept


def _pad_frames(features: np.ndarray, frames: int) -> np.ndarray:
    """Features padded with silence to ``frames``: the same values Whisper's extractor gives zero samples.

    The extractor clips its log-mel to 8 (2 after scaling) below the clip's maximum, so silence sits at that
    floor unless the clip is so quiet that the absolute floor is higher.
    """
    floor = max(float(features.max()) - 2.0, _LOG_MEL_FLOOR)
    return np.pad(features, ((0, 0), (0, frames - features.shape[1])), constant_values=floor)


def _word_texts(decode: Decode, tokenizer: Tokenizer) -> list[str]:
    words, _ = tokenizer.split_to_word_tokens(list(decode.tokens))
    merged: list[str] = []
    for word in words:
        if merged and not word.startswith(" "):
            merged[-1] += word  # punctuation and word pieces attach to the word before
        elif word.strip():
            merged.append(word.strip())
    return merged


def _even_words(texts: list[str], audio: np.ndarray, t0: float) -> list[Word]:
    """Approximate word times: the voiced span (10 ms frames within VOICED_DB of the loudest) shared out by
    each word's length in characters. Good enough for a speaking rate, not for cutting audio between words."""
    if not texts:
        return []
    hop = SAMPLE_RATE // FRAMES_PER_S
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    energy = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    voiced = np.flatnonzero(energy >= energy.max() + VOICED_DB)
    begin, end = voiced[0] / FRAMES_PER_S, (voiced[-1] + 1) / FRAMES_PER_S
    weights = np.cumsum([0] + [len(t) for t in texts], dtype=np.float64)
    edges = begin + (end - begin) * weights / weights[-1]
    return [Word(t, t0 + float(a), t0 + float(b)) for t, a, b in zip(texts, edges[:-1], edges[1:])]
