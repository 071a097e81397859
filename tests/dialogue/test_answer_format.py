"""The answer format: one language as a plan, a GBNF grammar, a JSON schema; JSON answers read back as tags."""
from __future__ import annotations

import json

import pytest

from dialogue.answer_format import (AGENT_EMOTIONS, DECISIONS, AnswerFormat, Fixed, JsonAnswerReader, Open, Pick,
                                    answer_format, json_string_end, render_tags)
from dialogue.parser import TagParser


def walk(fmt: AnswerFormat, decision: str, emotion: str, text: str, thinking: str = "hmm") -> str:
    """The answer the plan spells out when the model picks these values and writes this text."""
    plan = fmt.plan()
    out = []
    step = next(plan)
    while True:
        if isinstance(step, Fixed):
            value = step.text
        elif isinstance(step, Pick):
            value = decision if step.name == "decision" else emotion
            assert value in step.options
        else:
            assert isinstance(step, Open)
            value = thinking if step.name == "thinking" else text
        out.append(value)
        try:
            step = plan.send(value)
        except StopIteration:
            return "".join(out)


@pytest.mark.parametrize("reasoning", [0, 64])
def test_the_plan_spells_answers_in_the_grammars_language(reasoning: int) -> None:
    fmt = AnswerFormat("tags", reasoning)
    answer = walk(fmt, "respond", "sad", "I'm so sorry.")
    match = fmt.pattern().fullmatch(answer)
    assert match is not None and match["response"] == "I'm so sorry."
    assert answer.startswith("<think>hmm</think>") == bool(reasoning)


def test_a_wait_decision_has_an_empty_response() -> None:
    assert walk(AnswerFormat(), "wait", "neutral", "never said") == render_tags("wait", "neutral", "")


def test_the_json_plan_is_valid_json_of_the_schema() -> None:
    fmt = AnswerFormat("json", 32)
    obj = json.loads(walk(fmt, "backchannel", "warm", "Mm-hm."))
    assert obj == {"thinking": "hmm", "decision": "backchannel", "emotion": "warm", "response": "Mm-hm."}
    schema = fmt.json_schema()
    assert list(schema["properties"]) == ["thinking", "decision", "emotion", "response"]
    assert schema["properties"]["emotion"]["enum"] == list(AGENT_EMOTIONS)
    assert schema["required"] == list(schema["properties"]) and schema["additionalProperties"] is False


def test_the_grammar_lists_every_decision_and_emotion_and_bounds_reasoning() -> None:
    grammar = AnswerFormat("tags", 100).gbnf()
    for value in (*DECISIONS, *AGENT_EMOTIONS):
        assert f'"{value}' in grammar
    assert "[^<]{0,400}" in grammar  # 100 tokens, ~4 characters each
    assert "think" not in AnswerFormat().gbnf()
    with pytest.raises(ValueError):
        AnswerFormat("json").gbnf()


def test_structured_none_means_no_format() -> None:
    assert answer_format("none", 0) is None
    assert answer_format("grammar", 0) == AnswerFormat("tags", 0)
    assert answer_format("json", 16) == AnswerFormat("json", 16)


ANSWER = {"thinking": "They sound \"down\".", "decision": "respond", "emotion": "concerned",
          "response": "That sounds hard.\nI'm here \u2014 tell me <more>?"}


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_a_streamed_json_answer_reads_as_tags_whatever_the_chunking(size: int) -> None:
    raw = json.dumps(ANSWER, ensure_ascii=True)  # \u2014 and \" and \n escapes included
    reader, parser, deltas = JsonAnswerReader(), TagParser(), []
    for i in range(0, len(raw), size):
        deltas += parser.feed(reader.feed(raw[i:i + size]))
    deltas += parser.close()
    assert [d.decision for d in deltas if d.decision] == ["respond"]
    assert [d.emotion for d in deltas if d.emotion] == ["concerned"]
    assert "".join(d.text for d in deltas if d.text) == "That sounds hard.\nI'm here \u2014 tell me \u2039more>?"
    assert parser.thinking == 'They sound "down".'
    assert not parser.warnings


def test_the_response_streams_before_the_object_closes() -> None:
    reader = JsonAnswerReader()
    assert reader.feed('{"decision": "respond", "emotion": "warm", "response": "Hel') == (
        "<decision>respond</decision><emotion>warm</emotion><response>Hel")


def test_unknown_keys_and_non_string_values_are_skipped() -> None:
    reader = JsonAnswerReader()
    assert reader.feed('{"score": 3, "extra": "x", "decision": "wait"}') == "<decision>wait</decision>"


def test_a_json_string_ends_at_its_first_unescaped_quote() -> None:
    assert json_string_end('say \\"hi\\" now" rest') == 14
    assert json_string_end("no end \\") == -1


def test_a_finished_turn_is_answered_and_a_pause_or_a_backchannel_may_be_waited_out() -> None:
    end = AnswerFormat().for_trigger("end_of_turn")
    assert end.decisions == ("respond",) and "wait" not in end.gbnf() and '"backchannel"' not in end.gbnf()
    assert end.json_schema()["properties"]["decision"]["enum"] == ["respond"]
    assert AnswerFormat().for_trigger("backchannel").decisions == ("backchannel", "wait")
    assert walk(AnswerFormat().for_trigger("proactive"), "wait", "calm", "") == render_tags("wait", "calm", "")
    with pytest.raises(ValueError):
        AnswerFormat(decisions=("shout",))
