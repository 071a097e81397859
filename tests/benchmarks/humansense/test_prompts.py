"""Prompts are built exactly as published: template by pattern, slots in order, prefixes, and which tasks get audio."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from benchmarks.humansense import prompts
from benchmarks.humansense.loader import load_dataset
from benchmarks.humansense.prompts import AGENT_PREFIX, YES_NO_PLAIN_SKIP, build_prompt, templates
from benchmarks.humansense.tasks import AUDIO_TASKS

PUBLISHED_SHA256 = "eb36c41898bb2966a12b9f97196825ba6dc607bd8fc5d50642e09a8eb82ae231"
"""sha256 of prompt_templates.json as published in the protocol (antgroup/HumanSense at commit 840e1b6)."""


@pytest.fixture(scope="module")
def items(minidata):
    return {i.index: i for i in load_dataset(minidata.vqa, minidata.root).items}


def test_package_copy_of_the_templates_is_the_published_one() -> None:
    packaged = Path(prompts.__file__).with_name("prompt_templates.json")
    assert hashlib.sha256(packaged.read_bytes()).hexdigest() == PUBLISHED_SHA256
    assert set(templates()) >= {"plain", "think", "asr_prefix", "think_omini_system"}


def test_single_choice_fills_question_then_options(items) -> None:
    text = build_prompt(items[0]).text
    assert text == templates()["plain"]["PROMPT_TEMPLATE_SINGLE4"].format(
        "How does the speaker feel", "A. happy", "B. sad", "C. angry", "D. calm")
    assert "Question: How does the speaker feel, which one of the following is correct?\n\nOptions:\nA. happy\nB. sad" in text
    assert text.endswith("answer one correct letter only, do not include any extra text or explanation:\n")


def test_template_by_pattern_and_option_count(items) -> None:
    plain = templates()["plain"]
    assert build_prompt(items[1]).text == plain["PROMPT_TEMPLATE_SINGLE3"].format(items[1].question, *items[1].options)
    assert build_prompt(items[2]).text == plain["PROMPT_TEMPLATE_INDEFINITE"].format(items[2].question, *items[2].options)
    assert build_prompt(items[3]).text == plain["PROMPT_TEMPLATE_QA"].format("How many people appear")
    assert build_prompt(items[6]).text == plain["PROMPT_TEMPLATE_SINGLE5"].format(items[6].question, *items[6].options)
    think = build_prompt(items[3], "reasoning").text
    assert think == templates()["think"]["PROMPT_TEMPLATE_QA"].format("How many people appear")
    assert "<answer> answer a single Arabic numeral between 0 and 10 here </answer>" in think


def test_yes_no_needs_the_think_template(items) -> None:
    plain = build_prompt(items[4])
    assert plain.text is None and plain.skip_reason == YES_NO_PLAIN_SKIP
    assert build_prompt(items[4], "reasoning").text == templates()["think"]["PROMPT_TEMPLATE_YES_NO"].format(
        "Is the person lying")
    assert build_prompt(items[4], "plain", think=True).text is not None


def test_asr_variant_prefixes_the_transcript_and_runs_only_its_tasks(items) -> None:
    es = build_prompt(items[0], "asr")
    assert es.text == templates()["asr_prefix"] + "I am so tired." + build_prompt(items[0]).text
    assert es.text.startswith("The following provides the ASR (Automatic Speech Recognition) text from the video:I am")
    assert build_prompt(items[1], "asr").skip_reason.startswith("the ASR variant runs only")


def test_think_pattern_variant(items) -> None:
    tp = build_prompt(items[2], "think-pattern")
    assert tp.text == templates()["think_omini_system"] + build_prompt(items[2]).text
    assert build_prompt(items[3], "think-pattern").text is None


def test_agent_variant_puts_perception_first(items) -> None:
    text = build_prompt(items[0], "agent", perception="Transcript (our ASR): hello").text
    assert text == AGENT_PREFIX + "Transcript (our ASR): hello\n" + build_prompt(items[0]).text


def test_audio_follows_the_published_rule_and_can_be_overridden(items) -> None:
    assert AUDIO_TASKS == {"RR2", "ES", "TR", "FR1", "RR1", "FR2", "PC"}
    assert build_prompt(items[0], audio_columns=AUDIO_TASKS).audio        # ES
    assert not build_prompt(items[1], audio_columns=AUDIO_TASKS).audio    # AR
    assert build_prompt(items[1], audio_columns=frozenset({"AR"})).audio
    assert not build_prompt(items[0], audio_columns=frozenset()).audio
