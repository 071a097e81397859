"""The turn-taking vocabulary: facts and commands are frozen values."""
import dataclasses

import pytest

from dialogue.turntaking.facts import Commit, SpeechEnd, SpeechPause, SpeechStart


def test_facts_are_frozen_and_commands_compare_by_value():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SpeechStart(1.0).t = 2.0  # type: ignore[misc]
    assert Commit(1.0, 2.0) == Commit(1.0, 2.0, early=False)
    assert SpeechEnd(1.0) != SpeechPause(1.0)
