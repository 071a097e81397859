"""`bench --brain`: a ten-turn conversation with a real model, every turn timed; what the figures are made of."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.config import load_config
from benchmarks.latency.brain import CONVERSATION, run_brain_bench, summarize

ROOT = Path(__file__).resolve().parents[3]


def test_a_conversation_with_the_bundled_model_is_timed_turn_by_turn(tmp_path: Path) -> None:
    config = load_config(ROOT / "configs" / "llama-local.toml")
    said: list[str] = []
    result = run_brain_bench(config, tmp_path, repeat=1, realtime=False, say=said.append)
    rows = result["turns"]
    assert [r["turn"] for r in rows] == list(range(1, len(CONVERSATION.turns) + 1))
    assert all(r["parsed"] for r in rows)  # the grammar: decision and emotion every turn
    assert all(r["prompt_tokens"] > r["prefilled_tokens"] > 0 for r in rows[1:])  # the conversation stays cached
    assert result["brain"]["name"] == "llm:llama" and "SmolLM2" in result["brain"]["model"]
    assert json.loads((tmp_path / "brain.json").read_text())["summary"]["turns"] == len(rows)
    assert (tmp_path / "brain.png").stat().st_size > 0 and len(said) == len(rows)


def row(turn: int, speech: float, tokens: int = 40, notes: tuple[str, ...] = ()) -> dict[str, object]:
    return {"turn": turn, "prefilled_tokens": tokens, "first_words_ms": speech - 10, "first_speech_ms": speech,
            "total_ms": speech + 300, "parsed": True, "notes": list(notes), "acknowledgement": None}


def test_the_summary_leaves_out_the_first_turn_and_measures_growth() -> None:
    rows = [row(1, 900.0, 300), *(row(t, 200.0 + 10 * t) for t in range(2, 11))]
    summary = summarize(rows)
    assert summary["after_first"]["first_speech_ms"]["max"] == 300.0
    assert summary["after_first"]["prefilled_tokens"]["p50"] == 40
    assert summary["first_speech_ms_per_turn_slope"] == pytest.approx(10.0)
    assert summary["by_turn"]["1"]["first_speech_ms"] == 900.0
