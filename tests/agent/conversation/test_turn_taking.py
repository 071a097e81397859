"""When the agent speaks without being asked: a check-in after a long negative silence, backchannels in a monologue."""
import pytest

from agent.demo.synth import Line, render_conversation
from tests.agent.replaying import replay_fast

pytestmark = pytest.mark.slow


def test_a_silent_distressed_user_gets_one_gentle_check_in(tmp_path):
    media = tmp_path / "distress.wav"
    render_conversation([Line("I feel terrible. Everything is going wrong and I am so sad and hopeless.", 22.0)], media)
    turns, trace = replay_fast(media, tmp_path, "policy.proactive_silence_s=6")
    triggers = [t["trigger"] for t in turns]
    assert triggers.count("proactive") == 1 and triggers[-1] == "proactive" and "end_of_turn" in triggers
    check_in = turns[-1]
    assert check_in["agent_text"] and check_in["agent_emotion"] in {"calm", "concerned", "warm", "sad"}
    started = [e["t"] for e in trace if e["type"] == "agent_speech_started"]
    answered_end = max(e["t"] for e in trace if e["type"] == "agent_speech_ended" and e["t"] < started[-1])
    assert started[-1] - answered_end >= 6.0                       # only after the configured silence


def test_no_check_in_after_a_neutral_or_happy_turn(tmp_path):
    media = tmp_path / "fine.wav"
    render_conversation([Line("I had a lovely walk in the park with my dog today.", 22.0)], media)
    turns, _ = replay_fast(media, tmp_path, "policy.proactive_silence_s=6")
    assert [t["trigger"] for t in turns] == ["end_of_turn"]


def test_a_long_monologue_gets_a_backchannel_without_taking_the_turn(tmp_path):
    media = tmp_path / "monologue.wav"
    render_conversation([Line("So yesterday I went to the market with my brother and we bought apples and bread "
                              "and cheese and then we walked all the way home along the river talking about our "
                              "plans for the summer holidays and the garden.", 9.0)], media)
    turns, trace = replay_fast(media, tmp_path, "policy.backchannel_after_s=2.5", "policy.fast_endpoint_ms=0",
                               "end_of_turn.enabled=false")  # only silence ends this long turn, never a comma
    backchannels = [e for e in trace if e["type"] == "backchannel"]
    speech = next(e for e in trace if e["type"] == "speech_started")
    assert backchannels and backchannels[0]["text"] in ("Mm-hm.", "I see.", "Right.")
    assert backchannels[0]["t"] >= speech["t"] + 2.5
    assert not any(e["type"] == "barge_in" for e in trace)
    assert len(turns) == 1 and turns[0]["decision"] == "respond" and not turns[0]["interrupted"]
