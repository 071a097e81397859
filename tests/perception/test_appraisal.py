"""The appraisal as a specification: what each sentence says happened, how strongly, and the words that say so."""
from __future__ import annotations

import time

import pytest

from perception.appraisal import appraise
from perception.types import APPRAISAL_CATEGORIES


@pytest.mark.parametrize("text, category, evidence", [
    ("My dad passed away last month.", "loss", "passed away"),
    ("My mom was diagnosed with cancer.", "illness", "cancer"),
    ("The doctor called about my results.", "illness", "doctor"),
    ("I failed my driving test again.", "failure", "failed"),
    ("I didn't get the job.", "failure", "didn't get the"),
    ("I'm really worried about tomorrow.", "fear", "worried"),
    ("I'm so ashamed of what I said.", "shame", "ashamed"),
    ("My parents keep fighting.", "conflict", "fighting"),
    ("I'm furious with my landlord.", "anger", "furious"),
    ("I don't really have anyone to talk to.", "loneliness", "don't really have anyone"),
    ("I'm completely overwhelmed at work.", "strain", "overwhelmed"),
    ("I can't afford to fix my car.", "money", "can't afford"),
    ("I've been feeling really down lately.", "sadness", "really down"),
    ("My car broke down on the highway.", "setback", "broke down"),
])
def test_misfortune_is_negative_with_its_kind_and_evidence(text, category, evidence):
    a = appraise(text)
    assert a.valence <= -0.4 and a.categories[0] == category and evidence in a.evidence


@pytest.mark.parametrize("text, category", [
    ("I got the job I wanted!", "good_news"), ("The scan came back clear.", "good_news"),
    ("My sister is having a baby!", "good_news"), ("I passed all my exams!", "good_news"),
    ("I'm so proud of my son.", "joy"), ("I finally paid off my student loans!", "good_news"),
])
def test_good_news_is_positive(text, category):
    a = appraise(text)
    assert a.valence >= 0.5 and a.categories[0] == category


@pytest.mark.parametrize("text, negated", [
    ("I didn't fail the exam!", "not fail"), ("I'm no longer sick.", "not sick"), ("It's not bad at all.", "not bad"),
    ("I'm not worried at all.", "not worried"),
])
def test_a_negated_misfortune_is_a_relief(text, negated):
    a = appraise(text)
    assert a.valence > 0 and a.categories == ("relief",) and a.negated == (negated,) and a.evidence == ()


def test_negated_good_news_is_bad_and_some_negators_do_not_negate():
    assert appraise("I'm not happy with how things are going.").valence < -0.4
    assert appraise("I didn't pass.").categories == ("failure",)
    assert appraise("I can't stop worrying about money.").valence < -0.4   # "can't stop" does not turn it round


def test_what_follows_but_counts_more():
    assert appraise("The wedding was beautiful, but I felt alone the whole time.").valence < 0
    assert appraise("It was a hard year, but I finally graduated!").valence > 0.5
    assert appraise("I got the promotion, but my dad is in the hospital.").valence < 0


def test_intensifiers_and_downtoners_scale_the_weight():
    plain, strong, soft = (appraise(t).valence for t in ("I'm worried.", "I'm really worried.", "I'm a bit worried."))
    assert strong < plain < soft < 0


def test_medical_words_are_news_only_together():
    assert appraise("I'm a doctor.").valence == 0.0
    assert appraise("I got my scan results back today.").valence == 0.0      # one term: no news yet
    assert appraise("The doctor wants more tests.").categories == ("illness",)
    assert appraise("The doctor said my scan came back clear.").valence > 0


def test_passed_away_is_not_passing_and_wont_is_not_won():
    assert appraise("My grandfather passed away.").categories == ("loss",)
    assert appraise("I won't go.").valence == 0.0 and appraise("We won!").categories == ("good_news",)


def test_reassurance_is_marked_but_has_no_valence():
    a = appraise("I'm fine, don't worry about me.")
    assert a.categories == ("minimizing",) and a.valence == 0.0


def test_plain_statements_have_no_appraisal():
    a = appraise("The meeting is on Tuesday at three.")
    assert (a.valence, a.intensity, a.categories, a.evidence) == (0.0, 0.0, (), ())


def test_every_category_is_a_known_one():
    texts = ["My dog died and I'm broke, lonely, sick, scared, ashamed and furious, but I got the job and I'm fine."]
    assert set(appraise(texts[0]).categories) <= set(APPRAISAL_CATEGORIES)


def test_appraisal_takes_well_under_a_millisecond_per_sentence():
    text = "Honestly, I'm feeling pretty stressed because the doctor called about my results, but I'm fine."
    appraise(text)
    start = time.perf_counter()
    for _ in range(200):
        appraise(text)
    assert (time.perf_counter() - start) / 200 < 0.001
