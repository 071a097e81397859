"""Dialogue memory: folding at the token budget, renders within the budget, barge-in replacement, the summary."""
from __future__ import annotations

import pytest

from dialogue.memory import DialogueMemory, estimate_tokens, extractive_summary, format_turn
from dialogue.types import DialogueTurn


def rendered_tokens(memory: DialogueMemory) -> int:
    summary, recent = memory.render()
    return (memory.count_tokens(summary) if summary else 0) + sum(memory.count_tokens(format_turn(t)) for t in recent)


def chat(n: int) -> list[DialogueTurn]:
    turns = []
    for i in range(n):
        if i % 2 == 0:
            turns.append(DialogueTurn("user", f"Turn {i}: I went hiking in the mountains with my cousin Ana.", float(i)))
        else:
            turns.append(DialogueTurn("agent", f"Turn {i}: That sounds like a lovely trip, tell me more.", float(i)))
    return turns


def test_estimate_tokens_is_about_1_3_per_word():
    assert estimate_tokens("") == 0
    assert estimate_tokens("one two three four five six seven eight nine ten") == 13


def test_nothing_is_folded_below_the_budget():
    memory = DialogueMemory(budget_tokens=1000, keep_recent=4)
    for turn in chat(10):
        memory.add(turn)
    summary, recent = memory.render()
    assert summary == "" and len(recent) == 10
    assert memory.turns == tuple(chat(10))


def test_folding_happens_exactly_when_the_budget_is_exceeded():
    memory = DialogueMemory(budget_tokens=120, keep_recent=3)
    turns = chat(20)
    used = 0
    for n, turn in enumerate(turns, 1):
        used += estimate_tokens(format_turn(turn))
        memory.add(turn)
        if used > 120:
            break
        assert memory.render() == ("", tuple(turns[:n]))
    summary, recent = memory.render()
    assert summary != ""
    assert recent == tuple(turns[n - 3:n])
    assert memory.turns == tuple(turns[:n])


def test_rendered_history_always_fits_the_budget():
    for budget in (16, 40, 100, 300):
        memory = DialogueMemory(budget_tokens=budget, keep_recent=12)
        for turn in chat(40):
            memory.add(turn)
            assert rendered_tokens(memory) <= budget


def test_a_custom_token_counter_is_used():
    chars = DialogueMemory(budget_tokens=200, count_tokens=len, keep_recent=2)
    words = DialogueMemory(budget_tokens=200, keep_recent=2)
    for turn in chat(6):
        chars.add(turn)
        words.add(turn)
    assert chars.render()[0] != "" and words.render()[0] == ""
    assert rendered_tokens(chars) <= 200


def test_a_single_turn_longer_than_the_budget_keeps_its_end():
    memory = DialogueMemory(budget_tokens=20)
    memory.add(DialogueTurn("user", " ".join(f"w{i}" for i in range(100)) + " the end", 0.0))
    _, recent = memory.render()
    assert recent[0].text.endswith("w99 the end")
    assert rendered_tokens(memory) <= 20


def test_barge_in_keeps_only_what_was_played():
    memory = DialogueMemory(budget_tokens=500)
    memory.add(DialogueTurn("user", "I lost my keys.", 0.0))
    memory.add(DialogueTurn("agent", "Oh no, that's annoying. Where did you last see them?", 1.0, emotion="concerned"))
    memory.replace_last_agent("Oh no, that's annoying.", interrupted=True)
    last = memory.render()[1][-1]
    assert (last.text, last.interrupted, last.emotion, last.t) == ("Oh no, that's annoying.", True, "concerned", 1.0)
    assert "interrupted" in format_turn(last)


def test_barge_in_before_anything_was_played_drops_the_turn():
    memory = DialogueMemory(budget_tokens=500)
    memory.add(DialogueTurn("agent", "Hello!", 0.0))
    memory.add(DialogueTurn("user", "Hi.", 1.0))
    memory.add(DialogueTurn("agent", "How are you?", 2.0))
    memory.replace_last_agent("", interrupted=True)
    assert [t.text for t in memory.turns] == ["Hello!", "Hi."]


def test_replace_without_an_agent_turn_raises():
    memory = DialogueMemory(budget_tokens=500)
    memory.add(DialogueTurn("user", "Hi.", 1.0))
    with pytest.raises(ValueError, match="no recent agent turn"):
        memory.replace_last_agent("x", interrupted=True)


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="budget_tokens"):
        DialogueMemory(budget_tokens=0)
    with pytest.raises(ValueError, match="keep_recent"):
        DialogueMemory(budget_tokens=100, keep_recent=0)


def test_summary_keeps_the_strongest_user_sentences_and_an_agent_commitment_in_order():
    turns = [
        DialogueTurn("user", "Hi. Ok.", 0.0),
        DialogueTurn("agent", "Hello! I'll remember to ask about your exam tomorrow.", 1.0),
        DialogueTurn("user", "My grandmother passed away last month and I miss her terribly. Yeah.", 2.0),
        DialogueTurn("agent", "I'm so sorry.", 3.0),
        DialogueTurn("user", "Also my final chemistry exam is tomorrow morning. So.", 4.0),
    ]
    summary = extractive_summary(turns, max_sentences=3)
    assert summary == ("You said: I'll remember to ask about your exam tomorrow. "
                       "My grandmother passed away last month and I miss her terribly. "
                       "Also my final chemistry exam is tomorrow morning.")
    assert extractive_summary(turns, max_sentences=3) == summary
    assert "Hi." not in extractive_summary(turns, max_sentences=1)
    with pytest.raises(ValueError, match="max_sentences"):
        extractive_summary(turns, max_sentences=0)
