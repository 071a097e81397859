"""What the recognizer was unsure of: the words under the threshold, their share, and whether a phrase repeats one."""
from __future__ import annotations

from dialogue.unsure import repeats, unsure_share, unsure_words
from perception.types import Transcript, Word


def heard(*words: tuple[str, float]) -> Transcript:
    return Transcript(" ".join(w for w, _ in words), 0.0, float(len(words)),
                      tuple(Word(w, float(i), i + 1.0, p) for i, (w, p) in enumerate(words)))


MANAGER = heard(("My", 0.9), ("manager", 0.95), ("created", 0.3), ("a", 0.2), ("size", 0.25), ("of", 0.9),
                ("my", 0.9), ("report.", 0.8))


def test_the_unsure_words_are_those_under_the_threshold_in_lower_case_without_punctuation():
    assert unsure_words(MANAGER, 0.5) == ("created", "a", "size")
    assert unsure_words(heard(("Criticized,", 0.4), ("me", 0.9)), 0.5) == ("criticized",)
    assert unsure_words(MANAGER, 0.0) == ()


def test_a_word_also_heard_surely_elsewhere_is_not_unsure():
    assert unsure_words(heard(("a", 0.2), ("size", 0.3), ("of", 0.9), ("a", 0.95), ("report", 0.9)), 0.5) == ("size",)


def test_no_transcript_or_no_word_scores_means_nothing_unsure():
    assert unsure_words(None, 0.5) == () and unsure_share(None, 0.5) == 0.0
    assert unsure_words(Transcript("created a size", 0.0, 1.0), 0.5) == ()
    assert unsure_share(Transcript("created a size", 0.0, 1.0), 0.5) == 0.0


def test_the_share_counts_words_under_the_threshold():
    assert unsure_share(MANAGER, 0.5) == 3 / 8
    assert unsure_share(MANAGER, 0.85) == 4 / 8  # "report." at 0.8 joins them
    assert unsure_share(MANAGER, 0.0) == 0.0


def test_a_phrase_repeats_an_unsure_word_as_a_whole_word_and_after_the_pronoun_shift():
    assert repeats("your manager created a size of your report", ("created", "size"))
    assert not repeats("your manager recreated the sizes", ("created", "size"))
    assert repeats("you're worried about your job", ("my",))  # the user's unsure "my" is said back as "your"
    assert not repeats("your manager was harsh", ())
