"""The face's part in a conversation: an expression eases in and holds until the next, a gesture goes out and comes
back within its length, and every beat is tied to a spoken piece and names a known expression or gesture."""
from dataclasses import astuple

import pytest

from agent.demo.acting import CHANGE_S, EXPRESSIONS, LOOK_AWAY, NOD_DEG, Beat, performance
from agent.demo.puppet import Pose
from agent.demo.synth import Utterance

TRUTH = [Utterance("Hello.", 1.0, 2.0), Utterance("Bye now.", 5.0, 6.0)]


def close(a: Pose, b: Pose) -> bool:
    return astuple(a) == pytest.approx(astuple(b), abs=1e-9)


def test_an_expression_eases_in_from_its_beat_and_holds_until_the_next():
    pose = performance([Beat(0, "start", 0.0, "worried"), Beat(1, "end", -0.5, "beaming")], TRUTH)
    worried, beaming = EXPRESSIONS["worried"], EXPRESSIONS["beaming"]
    assert close(pose(0.9), Pose())
    halfway = pose(1.0 + CHANGE_S / 2)
    assert worried.smile < halfway.smile < 0 and 0 < halfway.brows < worried.brows
    assert close(pose(1.0 + CHANGE_S), worried) and close(pose(5.4), worried)
    assert close(pose(5.5 + CHANGE_S), beaming) and close(pose(60.0), beaming)


def test_a_nod_lifts_the_chin_and_brings_it_back_within_its_length_over_the_expression():
    pose = performance([Beat(0, "start", 0.0, "warm"), Beat(0, "end", 1.0, "nod", 0.8)], TRUTH)
    assert pose(3.0 + 0.4).pitch == pytest.approx(NOD_DEG)
    assert pose(3.0 + 0.4).smile == pytest.approx(EXPRESSIONS["warm"].smile)   # still smiling while nodding
    assert pose(2.99).pitch == 0 and pose(3.8).pitch == 0


def test_a_shake_turns_the_head_one_way_then_the_other_twice():
    pose = performance([Beat(1, "end", 0.0, "shake", 1.0)], TRUTH)
    assert [pose(6.0 + u).yaw > 10 for u in (0.125, 0.625)] == [True, True]
    assert [pose(6.0 + u).yaw < -10 for u in (0.375, 0.875)] == [True, True]
    assert pose(7.0).yaw == 0


def test_looking_away_turns_down_with_the_mouth_open_for_its_whole_length_and_comes_back():
    pose = performance([Beat(0, "end", -0.3, "look away", 2.0)], TRUTH)
    assert close(pose(1.69), Pose())
    assert all(close(pose(t), LOOK_AWAY) for t in (2.0, 2.5, 3.3))
    assert LOOK_AWAY.pitch < 0 and LOOK_AWAY.mouth > 0
    assert close(pose(3.7), Pose())


def test_a_beat_is_tied_to_a_start_or_an_end_and_names_an_expression_or_a_gesture():
    assert Beat(1, "start", 0.5, "nod").time(TRUTH) == 5.5
    assert Beat(1, "end", -0.5, "nod").time(TRUTH) == 5.5
    with pytest.raises(ValueError, match="not an expression .* or a gesture"):
        Beat(0, "end", 0.0, "wink")
    with pytest.raises(ValueError, match="expected 'start' or 'end'"):
        Beat(0, "middle", 0.0, "nod")
