"""The TurnTaker's commands carried out on the one answer: a speculation dropped, an answer cancelled before or while it
is heard, a continuation that stops the answer so the turn goes on, a commit for another pause than the speculation's.

Driven on a virtual clock (tests/agent/conversation/rig.py): each case runs in milliseconds.
"""
import pytest

from agent.runtime.events import EventKind
from dialogue import turntaking as tt
from tests.agent.conversation.rig import SECONDS_PER_WORD, Rig, run


def test_a_discarded_speculation_says_nothing_leaves_no_turn_and_releases_its_work():
    async def scenario(rig: Rig):
        rig.said(0.5, 2.0)
        response = rig.answers.prepare("preemptive", rig.hearing.utterance(0.5, 2.0, speculative=True))
        await rig.until(lambda: rig.tts.said, "the speculative thinking")  # it thinks before the commit
        rig.said(2.2, 2.5)  # the user went on
        rig.answers.discard("user_continued", 2.2)
        await rig.until(lambda: response.producer.done() and response.speaker.done(), "the answer's tasks to end")
        return rig.player.played, rig.of(EventKind.PREEMPTIVE_DISCARDED), rig.of(EventKind.TURN), rig.activity.count

    played, [discarded], turns, holds = run(scenario)
    assert played == [] and turns == [] and holds == 0
    assert discarded == {"onset": 2.2, "pause_t": 2.0, "reason": "user_continued"}


def test_an_answer_cancelled_before_it_is_heard_is_dropped_unheard():
    async def scenario(rig: Rig):
        rig.said(0.5, 2.0)
        rig.answers.prepare("end_of_turn", rig.hearing.utterance(0.5, 2.0, speculative=False))
        rig.answers.commit(0.5, 2.0, early=False)
        rig.answers.discard("client", 2.0)  # the stop button, before the first sentence was ready
        await rig.until(lambda: rig.activity.count == 0, "the answer's work to end")
        return rig.player.played, rig.of(EventKind.RESPONSE_DROPPED), rig.of(EventKind.TURN), rig.answers.current

    played, [dropped], turns, current = run(scenario)
    assert played == [] and turns == [] and current is None
    assert dropped["reason"] == "client"


def test_an_answer_cancelled_while_heard_stops_at_once_and_keeps_what_was_heard():
    async def scenario(rig: Rig):
        rig.said(0.5, 2.0)
        rig.answers.prepare("end_of_turn", rig.hearing.utterance(0.5, 2.0, speculative=False))
        rig.answers.commit(0.5, 2.0, early=False)
        await rig.until(lambda: rig.player.played, "the first sentence")
        first = rig.player.played[0]
        rig.clock.advance(first.start + 2.2 * SECONDS_PER_WORD)
        rig.answers.discard("client", rig.clock.now())
        await rig.until(lambda: rig.activity.count == 0, "the answer's work to end")
        return first, rig.player.played, rig.of(EventKind.BARGE_IN), rig.of(EventKind.TURN), rig.facts

    first, played, [barge], [turn], facts = run(scenario)
    assert played == [type(first)(first.text, first.start, first.start + 2.2 * SECONDS_PER_WORD)]
    assert barge["reason"] == "client" and barge["stop_ms"] == 0.0
    assert turn["interrupted"] and turn["agent_text"] == " ".join(first.text.split()[:2])
    assert not any(isinstance(f, tt.AgentFinished) for f in facts)  # the TurnTaker already knows (it said Discard)


def test_a_continuation_stops_the_answer_and_the_next_answer_hears_the_turn_from_its_first_span():
    """Within ``continuation_ms`` of the answer's start the user carries on their sentence: the TurnTaker discards
    the answer ("user_continued") and prepares the turn again from its first span."""
    async def scenario(rig: Rig):
        rig.said(0.5, 2.0)
        rig.answers.prepare("preemptive", rig.hearing.utterance(0.5, 2.0, speculative=True))
        rig.answers.commit(0.5, 2.0, early=False)
        await rig.until(lambda: rig.player.played, "the answer to start")
        onset = rig.player.played[0].start + 0.3
        assert (onset - rig.player.played[0].start) * 1000 < rig.config.policy.continuation_ms
        rig.clock.advance(onset + 0.1)  # when the TurnTaker has heard enough of it
        rig.answers.discard("user_continued", onset)
        stopped = rig.player.played[-1].end
        rig.said(onset, onset + 1.2)
        rig.clock.advance(onset + 1.4)
        rig.answers.prepare("preemptive", rig.hearing.utterance(0.5, onset + 1.2, speculative=True))
        await rig.until(lambda: len(rig.transcriber.calls) == 2, "the turn to be heard again")
        pre_roll = rig.config.vad.pre_roll_ms / 1000
        first = rig.player.played[0].text
        return first, stopped, onset, pre_roll, rig.of(EventKind.BARGE_IN), rig.of(EventKind.TURN), rig.transcriber.calls

    first, stopped, onset, pre_roll, [barge], [turn], calls = run(scenario)
    assert barge["reason"] == "user_continued" and stopped == pytest.approx(onset + 0.1)
    assert barge["stop_ms"] == pytest.approx(100.0)
    assert turn["interrupted"] and turn["agent_text"] == " ".join(first.split()[:int(0.4 / SECONDS_PER_WORD)])
    assert calls[1][0] == pytest.approx(0.5 - pre_roll)  # from the first span, not from the continuation's onset
    assert calls[1][1] > calls[0][1] + 1.2


def test_a_commit_for_another_pause_than_the_speculations_drops_it_and_answers_the_committed_turn():
    async def scenario(rig: Rig):
        rig.said(0.5, 2.0)
        first = rig.answers.prepare("preemptive", rig.hearing.utterance(0.5, 2.0, speculative=True))
        rig.said(2.3, 3.0)
        rig.answers.commit(0.5, 3.0, early=False, fresh=rig.hearing.utterance(0.5, 3.0, speculative=False))
        await rig.play_out()
        return first, rig.of(EventKind.TURN), [f for f in rig.facts if isinstance(f, tt.Heard)]

    first, [turn], heard = run(scenario)
    assert first.producer.cancelled() and turn["user_end_s"] == 3.0 and not turn["preemptive"]
    assert heard[-1].pause_t == 3.0
