"""The cases file: the bundled one is large, varied and split by a fixed field; a bad one fails in one line naming it."""
from __future__ import annotations

import json

import pytest

from benchmarks.empathy.cases import CASES_FILE, load_cases, select


def test_the_bundled_cases_are_many_varied_and_split_in_halves():
    cases = load_cases()
    tune, report = select(cases, "tune"), select(cases, "report")
    assert len(cases) >= 60 and abs(len(tune) - len(report)) <= 2 and len(tune) + len(report) == len(cases)
    assert select(cases, "all") == cases
    for half in (tune, report):
        faces = {t.face for c in half for t in c.turns}
        expected = {t.expect for c in half for t in c.turns}
        assert {"smile", "neutral", "sad"} <= faces and {"negative", "neutral", "positive"} <= expected
        assert len({c.topic for c in half}) >= 10
    assert any(len(c.turns) >= 3 for c in report)                            # carry-over is exercised
    assert any(t.voice for c in cases for t in c.turns)


def write(tmp_path, data):
    path = tmp_path / "cases.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


GOOD = {"id": "a", "split": "tune", "face": "smile", "turns": [{"user": "I failed.", "expect": "negative"}]}


@pytest.mark.parametrize("data, message", [
    ("{not json", "not valid JSON"),
    ([GOOD], "expected empathy cases file as a JSON object"),
    ({"cases": []}, "expected a non-empty 'cases' list"),
    ({"cases": [{**GOOD, "split": "train"}]}, "case 0 (a).split must be one of tune, report, got 'train'"),
    ({"cases": [{**GOOD, "face": "grin"}]}, "case 0 (a).face must be one of smile, neutral, sad, none"),
    ({"cases": [{**GOOD, "turns": [{"user": "Hi", "expect": "happy"}]}]}, "case 0 (a).turns[0].expect must be one of"),
    ({"cases": [{**GOOD, "turns": [{"user": " "}]}]}, "case 0 (a).turns[0].user must be a non-empty string"),
    ({"cases": [{**GOOD, "turns": [{"user": "Hi"}]}]}, "case 0 (a): no turn has an 'expect'"),
    ({"cases": [{**GOOD, "turns": [{"user": "Hi", "expect": "neutral", "mood": 1}]}]}, "unknown field 'mood'"),
    ({"cases": [{**GOOD, "forbid": "great"}]}, "case 0 (a).forbid must be a list of non-empty strings"),
    ({"cases": [{**GOOD, "turns": [{"user": "I failed.", "expect": "negative", "unsure": ["passed"]}]}]},
     "case 0 (a).turns[0].unsure: 'passed' is not among the user's words"),
    ({"cases": [GOOD, GOOD]}, "case id 'a' appears twice"),
])
def test_a_malformed_file_is_named_with_its_problem(tmp_path, data, message):
    path = write(tmp_path, data)
    with pytest.raises(ValueError) as err:
        load_cases(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_cases(tmp_path / "nope.json")


def test_unsure_phrases_mark_their_words_and_most_marked_means_the_turn_must_be_asked_again(tmp_path):
    turns = [{"user": "My manager created a size of my report.", "unsure": ["Created a SIZE"], "expect": "negative"},
             {"user": "Eye hiked Ted the lake.", "unsure": ["eye hiked", "ted"], "expect": "neutral"}]
    some, most = load_cases(write(tmp_path, {"cases": [{**GOOD, "turns": turns}]}))[0].turns
    assert some.unsure_marks == (False, False, True, True, True, False, False, False) and not some.mostly_unsure
    assert most.mostly_unsure and not load_cases()[0].turns[0].unsure


def test_both_halves_have_misheard_turns_some_mostly_misheard():
    for half in (select(load_cases(), "tune"), select(load_cases(), "report")):
        misheard = [t for c in half for t in c.turns if t.unsure and t.expect]
        assert len(misheard) >= 4 and 2 <= sum(t.mostly_unsure for t in misheard) < len(misheard)


def test_per_turn_faces_override_the_case_face(tmp_path):
    case = load_cases(write(tmp_path, {"cases": [{**GOOD, "turns": [{"user": "Hi", "face": "sad"}, GOOD["turns"][0]]}]}))
    assert [t.face for t in case[0].turns] == ["sad", "smile"] and CASES_FILE.exists()
