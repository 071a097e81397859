"""The scorers on hand-made results: every pattern and answer style of PROTOCOL.md, each number derived by hand."""
from __future__ import annotations

import time
from typing import Any

import pytest

from benchmarks.humansense.scorer import intended_letters, score

from tests.benchmarks.humansense.hs_data import MULTI, NUMERIC, OPTS4, SINGLE, YES_NO

M = "M"


def r(task: str, pattern: str, answer: str, response: Any = None, options: list[str] | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"question": "q", "task_type": task, "question_pattern": pattern, "answer": answer}
    if options is not None:
        q["options"] = options
    if response is not None:
        q[M] = response
    return {"video_path": "v.mp4", "questions": q}


def es(response: Any) -> dict[str, Any]:
    return r("Emo_Strategy", SINGLE, "B", response, OPTS4)          # B = "sad"


def hc(response: str, answer: str = "3") -> dict[str, Any]:
    return r("Human_Counting", NUMERIC, answer, response)


def ld(response: str) -> dict[str, Any]:
    return r("Lie_Detection", YES_NO, "No", response)


def tr(response: str) -> dict[str, Any]:
    return r("Talkingperson_Recognition", MULTI, "AC", response, OPTS4)


def test_published_plain_scorer() -> None:
    data = [
        # single, answer B: first characters compared, case-insensitively
        es("B"),                   # 1
        es("b"),                   # 1
        es("The answer is B"),     # 'T' vs 'B': 0
        es(" B"),                  # ' ' vs 'B': 0
        es("B. sad"),              # 1
        es(""),                    # empty: not counted
        es(None),                  # no answer: not counted
        # -> ES total 5, correct 3
        # numeric: the first character only
        hc("3"),                   # 1
        hc("10", answer="10"),     # read as 1 != 10: 0
        hc("three"),               # non-digit: counted, wrong
        hc("10", answer="1"),      # read as 1 == 1: 1
        # -> HC total 4, correct 2
        # yes/no, answer No: '.' and ' ' removed, compared case-insensitively
        ld("No."),                 # 1
        ld("no"),                  # 1
        ld("N o"),                 # "No": 1
        ld("Yes"),                 # 0
        ld("."),                   # "" after removal: not counted
        ld("No, he is not"),       # "No,heisnot": 0
        # -> LD total 5, correct 3
        # multiple choice, answer AC: '.' and ',' removed, lowercased
        tr("AC"),                  # 1
        tr("A, C"),                # "a c": the space is not a letter of the answer: 0
        tr("A"),                   # subset: 0.5
        tr("ABC"),                 # b is wrong: 0
        tr("C.A"),                 # "ca": 1
        tr(","),                   # "" after removal: not counted
        # -> TR total 5, correct 2.5
        r("Abnormal_Recognition", SINGLE, "A", "A", ["A. normal", "B. abnormal"]),   # left out by this scorer
        r("Emo_Strategy", "Fill in the blank", "A", "A"),                             # unknown pattern: not counted
    ]
    stats = score(data, M)
    assert list(stats) == ["Emo_Strategy", "Human_Counting", "Lie_Detection", "Talkingperson_Recognition", "all"]
    assert stats["Emo_Strategy"] == {"total": 5, "correct": 3, "accuracy": 0.6}
    assert stats["Human_Counting"] == {"total": 4, "correct": 2, "accuracy": 0.5}
    assert stats["Lie_Detection"] == {"total": 5, "correct": 3, "accuracy": 0.6}
    assert stats["Talkingperson_Recognition"] == {"total": 5, "correct": 2.5, "accuracy": 0.5}
    # all: 5+4+5+5 = 19 answered, 3+2+3+2.5 = 10.5 credit
    assert stats["all"] == {"total": 19, "correct": 10.5, "accuracy": pytest.approx(10.5 / 19)}


def test_published_reasoning_scorer() -> None:
    rr2 = ["A. a", "B. b", "C. c", "D. d", "E. excited"]
    data = [
        # single, answer B ("sad")
        es("<think>x</think><answer>B</answer>"),      # inner "B": 1
        es("<answer> b </answer>"),                    # stripped "b": 1
        es("<answer>B. sad</answer>"),                 # "b." prefix, letter matches: 1
        es("<answer>A. sad</answer>"),                 # wrong letter but the option text matches: 1
        es("<answer>Sad.</answer>"),                   # option text, '.' removed: 1
        es("<answer>The answer is B</answer>"),        # neither letter nor option text: 0
        es("B because she frowns"),                    # untagged: first character "B": 1
        es("The answer is B"),                         # untagged: "t" is not the option text: 0
        # -> ES total 8, correct 6
        r("Rapport_Recognition", SINGLE, "E", "<answer>E</answer>", rr2),         # 'e' is only compared as text: 0
        r("Rapport_Recognition", SINGLE, "E", "<answer>excited</answer>", rr2),   # option text: 1
        # -> RR2 total 2, correct 1
        hc("<answer>3</answer>"),                      # 1
        hc("<answer>three</answer>"),                  # the published script crashes here; counted wrong
        hc("<answer></answer>"),                       # crashes too (no first character): counted wrong
        hc("3 people"),                                # untagged: first character: 1
        # -> HC total 4, correct 2
        ld("<answer>No</answer>"),                     # tagged yes/no compares the whole response: counted, 0
        ld("No"),                                      # untagged yes/no: not scored
        # -> LD total 1, correct 0
        tr("<answer>A, C</answer>"),                   # '.', ',', '，' and spaces removed: "ac": 1
        tr("<answer>A</answer>"),                      # 0.5
        tr("<answer></answer>"),                       # empty: no wrong letter, not all: 0.5 (published quirk)
        tr("A,\nC"),                                   # untagged, newline removed too: 1
        tr("<answer>ABC</answer>"),                    # 0
        # -> TR total 5, correct 3
        r("Abnormal_Recognition", SINGLE, "A", "<answer>A</answer>", ["A. normal", "B. abnormal"]),  # kept: 1
    ]
    stats = score(data, M, reasoning=True)
    assert stats["Emo_Strategy"] == {"total": 8, "correct": 6, "accuracy": 0.75}
    assert stats["Rapport_Recognition"] == {"total": 2, "correct": 1, "accuracy": 0.5}
    assert stats["Human_Counting"] == {"total": 4, "correct": 2, "accuracy": 0.5}
    assert stats["Lie_Detection"] == {"total": 1, "correct": 0, "accuracy": 0.0}
    assert stats["Talkingperson_Recognition"] == {"total": 5, "correct": 3.0, "accuracy": 0.6}
    assert stats["Abnormal_Recognition"] == {"total": 1, "correct": 1, "accuracy": 1.0}
    # all: 8+2+4+1+5+1 = 21 answered, 6+1+2+0+3+1 = 13 credit
    assert stats["all"]["total"] == 21 and stats["all"]["correct"] == 13


def test_robust_scorer_reads_the_intended_answer() -> None:
    data = [
        es("The answer is B."), es("(B)"), es("sad"), es("B) sad"), es("b"),
        es("<think>maybe A</think>B"),                 # the thinking is not the answer: 1
        es("A"), es("I cannot tell"),                  # 0, 0
        # -> ES total 8, correct 6
        hc("10", answer="10"), hc("The count is 10.", answer="10"), hc("ten", answer="10"), hc("3", answer="10"),
        # -> HC total 4, correct 3
        ld("no."), ld("<answer>No</answer>"), ld("Yes, he is"),
        # -> LD total 3, correct 2
        tr("A and C"), tr("a, c"), tr("A"), tr("<answer>(A)(C)</answer>"),
        # -> TR total 4, correct 1+1+0.5+1 = 3.5
        r("Abnormal_Recognition", SINGLE, "A", "A", ["A. normal", "B. abnormal"]),   # kept: 1
    ]
    stats = score(data, M, scorer="robust")
    assert stats["Emo_Strategy"] == {"total": 8, "correct": 6, "accuracy": 0.75}
    assert stats["Human_Counting"] == {"total": 4, "correct": 3, "accuracy": 0.75}
    assert stats["Lie_Detection"]["correct"] == 2 and stats["Lie_Detection"]["total"] == 3
    assert stats["Talkingperson_Recognition"] == {"total": 4, "correct": 3.5, "accuracy": 0.875}
    assert stats["Abnormal_Recognition"]["correct"] == 1
    assert stats["all"] == {"total": 20, "correct": 15.5, "accuracy": 15.5 / 20}


def test_words_made_of_option_letters_are_not_read_as_letters() -> None:
    q = {"options": OPTS4}
    assert intended_letters(q, "bad") == ""
    assert intended_letters(q, "ac") == "AC"


def test_malformed_items_never_crash_the_scorer() -> None:
    data = [{"no": "questions"}, "text", {"questions": {"task_type": "X", "question_pattern": SINGLE}},
            r("Emo_Strategy", SINGLE, "Z", "<answer>Z</answer>", OPTS4)]
    assert score(data, M)["all"]["total"] == 1
    assert score(data, M, reasoning=True)["Emo_Strategy"] == {"total": 1, "correct": 0, "accuracy": 0.0}


def test_scoring_4000_items_takes_under_a_second() -> None:
    styles = [es("B"), es("The answer is B."), hc("3"), ld("No"), tr("A, C"), es("<answer>B</answer>"),
              tr("<answer>AC</answer>"), hc("<answer>three</answer>")]
    data = [styles[i % len(styles)] for i in range(4000)]
    for kwargs in ({}, {"reasoning": True}, {"scorer": "robust"}):
        t = time.perf_counter()
        stats = score(data, M, **kwargs)
        assert time.perf_counter() - t < 1.0
        assert stats["all"]["total"] > 0
