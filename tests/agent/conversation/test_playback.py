"""Where a paused answer resumes: at the word being said when it stopped, with the words before it counted as heard."""
import numpy as np

from agent.conversation.playback import split_at
from speech.types import SpokenAudio


def sentence(text, seconds=2.0, rate=24000):
    return SpokenAudio(text, np.arange(int(seconds * rate)).astype(np.int16) % 1000, rate), np.zeros(int(seconds * 16000), np.int16)


def test_the_rest_starts_at_the_word_being_said_when_playback_stopped():
    audio, pcm = sentence("one two three four five six seven eight", 2.0)
    heard, (rest, rest_pcm) = split_at(audio, pcm, 0.9)   # 0.9 s of 2.0 s: in the fourth word
    assert heard == "one two three"
    assert rest.text == "four five six seven eight"
    assert len(rest_pcm) == len(pcm) - int(3 / 8 * len(pcm))
    assert np.array_equal(rest.samples, audio.samples[int(3 / 8 * len(audio.samples)):])


def test_nothing_is_left_once_the_sentence_was_heard_to_the_end():
    audio, pcm = sentence("all of it", 1.0)
    assert split_at(audio, pcm, 1.2) == ("all of it", None)


def test_a_stop_at_the_first_word_replays_the_whole_sentence():
    audio, pcm = sentence("again from the start", 1.0)
    heard, (rest, _) = split_at(audio, pcm, 0.05)
    assert heard == "" and rest.text == "again from the start"
