"""Every reflection of a few hundred real-looking user sentences passes concrete grammar rules, and most get one."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from dialogue.reflection import is_question, reflect, reflect_question, sentences
from tests.dialogue.reflection_corpus.grammar import problems

CORPUS = [line.strip() for line in (Path(__file__).parent / "sentences.txt").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.startswith("#")]
_PERSONAL = re.compile(r"\b(i|i'm|me|my|we|our)\b", re.I)


def test_the_corpus_has_a_few_hundred_sentences():
    assert len(CORPUS) >= 300 and len(set(CORPUS)) == len(CORPUS)


@pytest.mark.parametrize("bad, rule", [
    ("you am tired", "you + a verb that needs I/he/she"),
    ("you was late again", "you + a verb that needs I/he/she"),
    ("you really was tired", "you + a verb that needs I/he/she"),
    ("I are tired of me", "I + a verb that needs you/he/she"),
    ("your're so tired", "a broken contraction"),
    ("thanks for listening to you", "a fragment starting with 'thanks'"),
    ("because you were late", "a fragment starting with 'because'"),
    ("your boss said that", None),
    ("you are worried about the", "a dangling 'the' at the end"),
    ("your sister and my", "a dangling 'my' at the end"),
    ("you told my mom", "a leftover first-person pronoun"),
    ("we finally finished the house", "a leftover we/us/our"),
    ("your back", "no verb"),
    ("me was there", "'me' as a subject"),
    ("i was tired", "a lower-case 'i'"),
])
def test_the_rules_catch_what_reads_wrong(bad, rule):
    found = problems("I told my mom.", bad)
    assert (rule in found) if rule else found == []


def test_every_reflection_in_the_corpus_is_grammatical():
    bad = {}
    for line in CORPUS:
        for said in (reflect(line), reflect_question(line)):
            if problems(line, said):
                bad[line] = (said, problems(line, said))
    assert bad == {}


def test_most_statements_and_personal_questions_are_reflected():
    statements = [line for line in CORPUS if not all(is_question(s) for s in sentences(line))]
    questions = [line for line in CORPUS if any(is_question(s) and _PERSONAL.search(s) for s in sentences(line))]
    reflected = sum(1 for line in statements if reflect(line)) / len(statements)
    asked = sum(1 for line in questions if reflect_question(line)) / len(questions)
    assert reflected >= 0.8 and asked >= 0.8, (reflected, asked)


@pytest.mark.parametrize("line", ["Thanks for listening to me.", "Thanks for listening to me. What should I do tonight?",
                                  "It's hard when you lose someone.", "Yeah.", "I see.", "Sorry, I know."])
def test_fragments_small_talk_and_generic_you_are_not_echoed(line):
    assert reflect(line) == ""
