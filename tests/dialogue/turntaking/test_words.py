"""What the user's words say: trailing off, a finished sentence, carrying on, nothing real to answer."""
import pytest

from dialogue.settings import PolicySettings
from dialogue.turntaking.words import continues, could_say, is_complete, no_real_words, only_backchannel, trails_off


@pytest.mark.parametrize("text, complete, trailing", [
    ("I had a long day at work.", True, False),
    ("Can you help me?", True, False),
    ("I was thinking about the", False, True),
    ("I went home and.", False, True),
    ("Well, um.", False, True),
    ("It is just that my mother is getting older,", False, True),
    ("because...", False, True),
    ("I went to the park", False, False),
    ("", False, False),
    ("Hold on.", True, False),
    ("What are you looking for?", True, False),
    ("My manager cancelled the project I spent six months on.", True, False),
    ("I keep thinking of", False, True),
])
def test_words_that_trail_off_are_not_a_finished_sentence(text, complete, trailing):
    assert is_complete(text) is complete
    assert trails_off(text) is trailing


@pytest.mark.parametrize("text, expected", [
    ("Yeah.", True), ("Mm-hm, right.", True), ("Uh", True), ("", True), ("Okay okay.", True), ("I see.", True),
    ("Wait, stop.", False), ("Yeah but no.", False), ("Hold on.", False),
])
def test_backchannels_and_fillers_hold_no_real_words(text, expected):
    assert only_backchannel(text, PolicySettings().backchannel_words) is expected


@pytest.mark.parametrize("text, speech_s, nothing", [
    ("Mm-hm, yeah.", 0.5, True), ("I...", 0.3, True), ("So, um", 0.5, True), ("I'm gonna go through the", 0.3, True),
    ("Wait.", 0.3, False), ("Hold on, I", 0.6, False), ("Actually, could you help me?", 1.2, False),
])
def test_what_counts_as_no_real_words_over_the_agent(text, speech_s, nothing):
    assert no_real_words(text, speech_s, PolicySettings().backchannel_words) is nothing


def test_words_a_short_sound_could_not_hold_are_the_recognizer_inventing_them():
    assert could_say("Wait, stop.", 0.5) and not could_say("I'm gonna go through the", 0.3)


@pytest.mark.parametrize("text, goes_on", [
    ("that I will forget everything.", True), ("and I worry about her.", True), ("Because it hurts.", True),
    ("Wait, sorry, actually never mind.", False), ("Hold on.", False), ("", False),
])
def test_words_that_carry_on_a_sentence(text, goes_on):
    assert continues(text) is goes_on
