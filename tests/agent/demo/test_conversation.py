"""The demo's story: the face nods only while the agent answers, looks away only to think through the one
hesitation, smiles over sad words once (the masking the report should show), and the cached media is rebuilt
whenever the script or the rendering changes."""
from dataclasses import replace

import pytest

from agent.demo import conversation
from agent.demo.acting import performance
from agent.demo.conversation import DEMO_FACE, DEMO_LINES, demo_media_name
from agent.demo.synth import Utterance, render_audio


@pytest.fixture(scope="module")
def truth() -> list[Utterance]:
    return render_audio(DEMO_LINES)[1]


def _gestures(truth: list[Utterance], what: str) -> list[tuple[float, float]]:
    return [(b.time(truth), b.time(truth) + b.for_s) for b in DEMO_FACE if b.what == what]


def test_the_face_nods_and_shakes_only_between_the_lines_while_the_agent_answers(truth):
    ends = [u.end_s for u in truth]
    starts = [u.start_s for u in truth] + [float("inf")]
    moves = _gestures(truth, "nod") + _gestures(truth, "shake")
    assert len(_gestures(truth, "nod")) >= 3 and _gestures(truth, "shake")
    for start, end in moves:
        line = max(k for k, e in enumerate(ends) if e <= start)
        assert start >= ends[line] + 1.0 and end <= starts[line + 1]    # the answer has begun; the user is silent


def test_the_face_looks_away_only_through_the_hesitation(truth):
    hesitation = [(a.end_s, b.start_s) for a, b in zip(truth, truth[1:]) if b.start_s - a.end_s < 3.0]
    assert len(hesitation) == 1
    (gap_start, gap_end), = hesitation
    (away_start, away_end), = _gestures(truth, "look away")
    assert away_start < gap_start and away_end > gap_end


def test_the_face_smiles_over_worrying_words_once_and_with_the_good_news(truth):
    pose = performance(DEMO_FACE, truth)
    smiling = [u.text for u in truth if pose(u.end_s).smile > 0.05]
    assert smiling == ["that I will forget everything.",
                       "Oh, and guess what? My sister just told me she's having a baby!",
                       "Thanks for listening to me. What should I do tonight to relax?"]
    assert pose(truth[0].end_s).smile < 0 and pose(truth[1].end_s).smile < 0


def test_each_line_but_the_last_leaves_room_for_a_whole_answer():
    # After the last line the session itself waits for the answer to end.
    assert all(line.pause_after_s >= conversation.ANSWER_S for line in DEMO_LINES[:-1])


def test_the_cached_media_is_named_for_everything_that_shapes_it(monkeypatch):
    name = demo_media_name()
    monkeypatch.setattr(conversation, "DEMO_FACE", DEMO_FACE[:-1])
    assert demo_media_name() != name
    monkeypatch.setattr(conversation, "DEMO_FACE", DEMO_FACE)
    monkeypatch.setattr(conversation, "RENDER_VERSION", conversation.RENDER_VERSION + 1)
    assert demo_media_name() != name
    monkeypatch.setattr(conversation, "RENDER_VERSION", conversation.RENDER_VERSION - 1)
    monkeypatch.setattr(conversation, "DEMO_LINES", (replace(DEMO_LINES[0], pause_after_s=1.0), *DEMO_LINES[1:]))
    assert demo_media_name() != name
