"""One answer speaking: sentences back to back, a stop that cuts even a sentence not yet begun, a resume at the word it
stopped at, and a TTS failure that costs one sentence (or, when nothing can be said, the trouble phrase).

Driven on a virtual clock (tests/agent/conversation/rig.py): each case runs in milliseconds.
"""
import asyncio

import pytest

from agent.runtime.events import EventKind
from dialogue import turntaking as tt
from tests.agent.conversation.rig import SECONDS_PER_WORD, Rig, run

LINE = "I had a really rough day at work today."


async def answer(rig: Rig) -> None:
    """The user spoke from 0.5 to 2.0 s; the answer prepared in the pause is committed at 2.1 s."""
    rig.said(0.5, 2.0)
    rig.clock.advance(2.1)
    rig.answers.prepare("preemptive", rig.hearing.utterance(0.5, 2.0, speculative=True))
    rig.answers.commit(0.5, 2.0, early=False)


def test_a_committed_answer_plays_its_sentences_back_to_back_and_tells_the_turn_taker():
    async def scenario(rig: Rig):
        await answer(rig)
        await rig.play_out()
        return rig.player.played, rig.tts.said, rig.facts, rig.of(EventKind.TURN)

    played, said, facts, [turn] = run(scenario)
    assert [p.text for p in played] == said and len(said) >= 2
    assert played[0].start == 2.1 and all(a.end == b.start for a, b in zip(played, played[1:]))
    assert facts == [tt.Heard(2.0, LINE), tt.AgentStarted(2.1), tt.AgentFinished(played[-1].end, spoke=True)]
    assert turn["agent_text"] == " ".join(said) and not turn["interrupted"]
    assert turn["latency_ms"]["voice_to_voice"] == pytest.approx(100.0)


def test_a_barge_in_before_a_sentences_playback_task_has_started_plays_nothing_of_it():
    """The race the full suite once found under load: the user's stop lands after the sentence was handed to the
    player but before the player's task ran; that sentence must not play uncut."""
    async def scenario(rig: Rig):
        loop = asyncio.get_running_loop()
        rig.hooks[EventKind.AGENT_TEXT] = lambda data: loop.call_soon(rig.answers.stop, data["start"])
        await answer(rig)
        await rig.until(lambda: rig.answers.current.stopped_at is not None, "the stop")
        for _ in range(5):  # let the sentence's playback task run, were it still alive
            await asyncio.sleep(0)
        played, busy_until = list(rig.player.played), rig.player.busy_until
        rig.answers.discard("user_speech", 2.1)
        return played, busy_until, rig.of(EventKind.BARGE_IN), rig.of(EventKind.TURN)

    played, busy_until, [barge], [turn] = run(scenario)
    assert played == [] and busy_until <= 2.1
    assert barge["stop_ms"] == 0.0
    assert turn["interrupted"] and turn["agent_text"] == ""


def test_a_paused_answer_resumes_from_the_word_it_stopped_at_and_the_history_has_it_all():
    async def scenario(rig: Rig):
        await answer(rig)
        await rig.until(lambda: rig.player.played, "the first sentence")
        first = rig.player.played[0]
        rig.clock.advance(first.start + 1.5 * SECONDS_PER_WORD)  # halfway through the second word
        rig.answers.stop(onset=first.start + 1.4 * SECONDS_PER_WORD)
        cut = rig.player.played[0]
        rig.clock.advance(rig.clock.now() + 0.5)  # the overlap was a "hmm": the TurnTaker resumes
        rig.answers.resume(onset=first.start + 1.4 * SECONDS_PER_WORD)
        await rig.until(lambda: len(rig.player.played) == 2, "the rest of the sentence")
        rest = rig.player.played[1]
        await rig.play_out()
        return first, cut, rest, rig.clock, rig.tts.said, rig.of(EventKind.TURN), rig.of(EventKind.AGENT_RESUMED)

    first, cut, rest, clock, said, [turn], [resumed] = run(scenario)
    words = first.text.split()
    assert cut.end == pytest.approx(first.start + 1.5 * SECONDS_PER_WORD)
    assert rest.text == " ".join(words[1:]) and rest.start == pytest.approx(cut.end + 0.5)
    assert rest.end - rest.start == pytest.approx(SECONDS_PER_WORD * (len(words) - 1))
    assert resumed["stopped_at"] == pytest.approx(cut.end)
    assert turn["agent_text"] == " ".join(said) and not turn["interrupted"]


def test_a_sentence_the_tts_fails_on_is_left_out_the_others_are_said_and_the_fault_is_reported_once():
    async def scenario(rig: Rig):
        rig.tts.failing = {2}
        await answer(rig)
        await rig.play_out()
        return rig.player.played, rig.tts.said, rig.errors(), rig.of(EventKind.TURN)

    played, said, errors, [turn] = run(scenario)
    assert [p.text for p in played] == [said[0], *said[2:]]
    assert errors == ["tts"] and turn["faults"] == ["tts"]
    assert turn["agent_text"] == " ".join([said[0], *said[2:]])


def test_when_no_sentence_can_be_synthesized_the_trouble_phrase_is_said():
    async def scenario(rig: Rig):
        await rig.answers.phrases.prepare(rig.config, rig.models, rig.supervisor)
        rig.tts.failing = None
        await answer(rig)
        await rig.play_out()
        return rig.player.played, rig.config.policy.trouble_phrase, rig.of(EventKind.TURN)

    played, trouble, [turn] = run(scenario)
    assert [p.text for p in played] == [trouble]
    assert turn["parts"] == [{"text": trouble, "source": "trouble"}] and turn["fallback"] == "trouble: tts failed"
