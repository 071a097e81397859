"""Hearing: a turn's words go to the TurnTaker as soon as they are in, its cues follow; overheard words are kept.

Driven on a virtual clock (tests/agent/conversation/rig.py): each case runs in milliseconds.
"""
import asyncio

import pytest

from agent.runtime.events import EventKind
from dialogue import turntaking as tt
from tests.agent.conversation.rig import Rig, run


def test_the_words_reach_the_turn_taker_before_the_cues_are_read():
    async def scenario(rig: Rig):
        rig.said(0.5, 2.0)
        listening = rig.hearing.utterance(0.5, 2.0, speculative=True)
        words = await listening.words
        heard_at_words = list(rig.facts)
        utterance = await listening.utterance
        return words, heard_at_words, utterance, rig.of(EventKind.TRANSCRIPT)

    words, heard_at_words, utterance, transcripts = run(scenario)
    assert words.text == "I had a really rough day at work today."
    assert heard_at_words == [tt.Heard(2.0, words.text)]
    assert transcripts[0]["speculative"] and not transcripts[0]["final"]
    assert utterance.transcript == words and utterance.voice is not None and utterance.words is not None
    assert utterance.words.valence < 0 and utterance.faults == ()


def test_the_turn_is_heard_from_its_start_less_the_pre_roll_to_the_pause_plus_the_vad_tail():
    async def scenario(rig: Rig):
        rig.said(1.0, 3.0)
        await rig.hearing.utterance(1.0, 3.0, speculative=False).utterance
        return rig.transcriber.calls, rig.config.vad.pre_roll_ms / 1000

    calls, pre_roll = run(scenario)
    [(t0, seconds)] = calls
    assert t0 == pytest.approx(1.0 - pre_roll)
    assert seconds == pytest.approx(2.0 + pre_roll, abs=1e-3)  # the tail is past the end of what was said


def test_a_failed_recognizer_gives_empty_words_and_is_reported_once():
    async def scenario(rig: Rig):
        rig.transcriber.failing = True
        rig.said(0.0, 1.5)
        first = await rig.hearing.utterance(0.0, 1.5, speculative=True).utterance
        rig.said(2.0, 3.0)
        await rig.hearing.utterance(0.0, 3.0, speculative=True).utterance
        return first, rig.facts, rig.errors()

    first, facts, errors = run(scenario)
    assert first.transcript.text == "" and first.faults == ("asr",)
    assert facts == [tt.Heard(1.5, ""), tt.Heard(3.0, "")]
    assert errors == ["asr"]


def test_words_overheard_while_the_agent_was_stopped_are_judged_then_reused_for_the_turn():
    async def scenario(rig: Rig):
        rig.transcriber.probability = 0.3
        rig.said(4.0, 4.6)
        rig.hearing.overheard(4.0, 4.6)
        await rig.until(lambda: rig.facts, "the overheard words")
        overheard = list(rig.facts)
        utterance = await rig.hearing.utterance(4.0, 4.6, speculative=False).utterance
        return overheard, len(rig.transcriber.calls), utterance

    overheard, calls, utterance = run(scenario)
    assert overheard == [tt.Heard(4.6, "I had a really rough day at work today.", pytest.approx(0.3))]
    assert calls == 1  # the turn reused them: no second transcription
    assert utterance.asr_s == 0.0 and utterance.transcript.text.startswith("I had")


def test_a_turn_dropped_before_its_transcription_starts_is_never_transcribed():
    async def scenario(rig: Rig):
        rig.said(0.0, 1.0)
        listening = rig.hearing.utterance(0.0, 1.0, speculative=True)
        listening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listening.utterance
        return rig.transcriber.calls, rig.facts, listening.words.cancelled()

    calls, facts, words_cancelled = run(scenario)
    assert calls == [] and facts == [] and words_cancelled


def test_while_the_user_speaks_the_turn_so_far_is_transcribed_each_interval_unless_load_is_shed():
    async def scenario(rig: Rig):
        rig.said(0.0, 1.0)
        rig.hearing.listening(0.0, True, 1.0)  # the first call starts the clock of the interval
        rig.said(1.0, 2.1)
        rig.hearing.listening(0.0, True, 2.1)
        await rig.until(lambda: rig.transcriber.calls and not rig.activity.count, "the incremental pass")
        passes = len(rig.transcriber.calls)
        rig.hearing.shed = True
        rig.said(2.1, 3.5)
        rig.hearing.listening(0.0, True, 3.5)
        await asyncio.sleep(0)
        return passes, len(rig.transcriber.calls)

    passes, after_shedding = run(scenario, settings=("asr.incremental=true",))
    assert passes == 1 and after_shedding == 1
