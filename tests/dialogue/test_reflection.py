"""Reflection by example: which clause is said back, how pronouns and verbs shift, how questions are reflected."""
from __future__ import annotations

import pytest

from dialogue.reflection import MAX_PHRASE_WORDS, is_question, key_phrase, reflect, reflect_question, shift_pronouns


@pytest.mark.parametrize("said, reflected", [
    ("I'm scared of my exam.", "you're scared of your exam"),
    ("I am happy with myself", "you are happy with yourself"),
    ("I told you about my sister.", "you told me about your sister"),
    ("I told you about my sister, but she did not call.", "she did not call"),
    ("I got the promotion, but my dad is in the hospital.", "your dad is in the hospital"),
    ("I think my boss hates me because I was late.", "your boss hates you"),
    ("The weather is nice today.", "the weather is nice today"),
    ("We finally finished the house renovation.", "you finally finished the house renovation"),
    ("Me and my brother haven't spoken in years.", "you and your brother haven't spoken in years"),
    ("My wife and I are fighting all the time.", "your wife and you are fighting all the time"),
    ("My mom's in the hospital again.", "your mom's in the hospital again"),
    ("When I got home my dog was sick.", "your dog was sick"),
    ("I didn't get the promotion I was hoping for.", "you didn't get the promotion you were hoping for"),
    ("I broke my ankle playing football.", "you broke your ankle playing football"),
    ("I really was tired yesterday.", "you really were tired yesterday"),
    ("I wasn't ready for any of it.", "you weren't ready for any of it"),
    ("I was hoping you could help me.", "you were hoping I could help you"),
    ("Okay so, I've been thinking, um, about moving back home.", "you've been thinking about moving back home"),
    ("Oh, and guess what? My sister just told me she's having a baby!", "your sister just told you she's having a baby"),
    ("I know you're busy, but I need to talk.", "you need to talk"),
    ("You were the only one I could tell.", ""),
    ("Thanks for listening to me.", ""),
    ("It's hard when you lose someone.", ""),
    ("Yeah.", ""),
    ("What time is it?", ""),
])
def test_reflection_picks_the_main_clause_and_shifts_pronouns(said, reflected):
    assert reflect(said) == reflected


def test_a_feeling_wins_over_other_sentences():
    assert key_phrase("Today was long. My boss yelled. I feel completely drained.") == "I feel completely drained"


def test_shifting_keeps_verbs_in_agreement():
    assert shift_pronouns("I was sure you were right") == "you were sure I was right"
    assert shift_pronouns("am I wrong") == "are you wrong"
    assert shift_pronouns("you really were kind to me") == "I really was kind to you"
    assert shift_pronouns("if you were me") == "if I were you"


def test_a_long_turn_is_cut_where_its_first_clause_ends():
    said = "I have been trying so hard to make everyone happy and nobody even notices how much I do for them."
    assert reflect(said) == "you have been trying so hard to make everyone happy"
    assert all(len(reflect(s).split()) <= MAX_PHRASE_WORDS for s in (said, "I " + "really " * 30 + "tried."))


@pytest.mark.parametrize("asked, reflected", [
    ("Do you think I should quit?", "you're wondering whether you should quit"),
    ("Should I quit my job?", "you're wondering whether you should quit your job"),
    ("Am I overreacting?", "you're wondering whether you're overreacting"),
    ("Did I make a mistake?", "you're wondering whether you made a mistake"),
    ("Is it bad that I feel relieved?", "you're wondering whether it's bad that you feel relieved"),
    ("What do I tell my parents?", "you're not sure what to tell your parents"),
    ("How do I tell my parents?", "you're wondering how to tell your parents"),
    ("What if I fail?", "you're worried about what happens if you fail"),
    ("Do you think she'll forgive me?", "you're wondering whether she'll forgive you"),
    ("My dad is sick. Should I fly home?", "you're wondering whether you should fly home"),
    ("Why does this always happen to me?", ""),
    ("What's the capital of France?", ""),
    ("I failed my exam.", ""),
])
def test_personal_questions_are_reflected_as_wondering(asked, reflected):
    assert reflect_question(asked) == reflected


def test_questions_are_recognised_with_or_without_a_question_mark():
    assert is_question("Should I call her") and is_question("It's fine?") and not is_question("I should call her.")


@pytest.mark.parametrize("said, reflected", [
    ("I think about her every day.", "you think about her every day"),
    ("I think I'm going to lose my job.", "you're going to lose your job"),
    ("No one cares about me.", ""),
    ("No, I'm just tired.", "you're just tired"),
])
def test_lead_in_words_are_dropped_only_before_a_clause_of_their_own(said, reflected):
    assert reflect(said) == reflected
