"""An engine's measured speed (prefill and decode rates, fixed overhead) and the waits it implies for one prompt.

Pure and clock-free: the brain feeds it what each generation took and asks how long the
next one should take, so a slow engine is given the time it needs (and an acknowledgement
covers the wait) instead of being cut off by one fixed number.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from dialogue.types import GenerationStats

SENTENCE_TOKENS = 10
"""Tokens of a short first sentence, counted as generated."""
SMOOTHING = 0.3
"""Weight of the newest measurement in the running averages."""
MIN_PREFILL_TOKENS = 16
"""Prefills shorter than this are too short to time the rate by."""
ASSUMED = {"prefill_tps": 200.0, "decode_tps": 20.0, "overhead_s": 0.05}
"""What an engine is taken to do until it has been timed."""


@dataclass(frozen=True)
class EngineSpeed:
    """Running averages of what was measured (None: not yet)."""
    prefill_tps: float | None = None
    decode_tps: float | None = None
    overhead_s: float | None = None

    @property
    def measured(self) -> bool:
        return self.prefill_tps is not None

    def observe(self, stats: GenerationStats, first_words_s: float | None = None) -> "EngineSpeed":
        """The speed after one generation; ``first_words_s``: when its first words to speak came, if any did."""
        speed = self
        prefilled, prefill_s = stats.prefilled_tokens, stats.prefill_s
        if prefilled is not None and prefill_s and prefilled >= MIN_PREFILL_TOKENS:
            speed = replace(speed, prefill_tps=_avg(speed.prefill_tps, prefilled / prefill_s))
        if stats.first_piece_s is not None and stats.new_tokens > 1 and stats.total_s > stats.first_piece_s:
            rate = (stats.new_tokens - 1) / (stats.total_s - stats.first_piece_s)
            speed = replace(speed, decode_tps=_avg(speed.decode_tps, rate))
        if first_words_s is not None and prefilled is not None and speed.prefill_tps is not None:
            rest = max(0.0, first_words_s - prefilled / speed.prefill_tps)
            speed = replace(speed, overhead_s=_avg(speed.overhead_s, rest))
        return speed

    def _get(self, name: str) -> float:
        value = getattr(self, name)
        return ASSUMED[name] if value is None else value

    def first_words_s(self, prefill_tokens: int) -> float:
        """When the first words to speak should come for a prompt that needs ``prefill_tokens`` evaluated."""
        return self._get("overhead_s") + prefill_tokens / self._get("prefill_tps")

    def first_sentence_s(self, prefill_tokens: int) -> float:
        return self.first_words_s(prefill_tokens) + SENTENCE_TOKENS / self._get("decode_tps")

    def decode_s(self, tokens: int) -> float:
        return tokens / self._get("decode_tps")

    def wait_s(self, prefill_tokens: int, floor: float, ceiling: float, margin: float = 2.0) -> float:
        """How long to wait for the first words: the expected time with a margin, within [floor, ceiling];
        just ``floor`` until the engine has been timed."""
        if not self.measured:
            return floor
        return min(ceiling, max(floor, margin * self.first_words_s(prefill_tokens) + 0.5))


def _avg(old: float | None, new: float) -> float:
    return new if old is None else (1 - SMOOTHING) * old + SMOOTHING * new
