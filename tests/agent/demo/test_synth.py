"""Synthetic speech cut from one synthesis: a hesitating turn's fragments end mid-sentence, cut in the pause; a moving
face is filmed frame by frame at media time."""
import av
import numpy as np
import pytest

from agent.demo.synth import CUT_QUIET_DB, find_cut, scene_size, speak_turn, trim, write_media
from benchmarks.latency.render import hibari_user_voice
from benchmarks.latency.sounds import dbfs
from floor import SAMPLE_RATE


def test_a_hesitation_is_cut_from_one_synthesis_in_the_gap_after_the_conjunction() -> None:
    synth = hibari_user_voice()
    texts = ["My sister called me last night and", "we talked for hours."]
    first, second = speak_turn(texts, synth)
    whole = trim(synth("My sister called me last night and: we talked for hours."))
    # Both fragments are the whole sentence's own samples: the first a prefix, the second a suffix.
    assert np.array_equal(first, whole[:len(first)])
    assert np.array_equal(second, whole[len(whole) - len(second):])
    # What was cut away between them is a pause (the gap after "and"), not a word.
    gap = whole[len(first):len(whole) - len(second)]
    assert len(gap) >= 0.1 * SAMPLE_RATE
    assert dbfs(gap) < dbfs(whole) + CUT_QUIET_DB / 2
    # Synthesized alone, the first fragment is another, finished sentence: the cut keeps the continuation.
    assert not np.array_equal(trim(synth(texts[0])), first)


def _tone_synth(text: str) -> np.ndarray:
    """A stand-in voice: 0.2 s of tone per word, 0.15 s of silence after , : or . and 0.1 s at either end."""
    sr = SAMPLE_RATE
    parts = [np.zeros(sr // 10)]
    for k, word in enumerate(text.split()):
        parts.append(0.5 * np.sin(np.arange(sr // 5) * (0.05 + 0.01 * k)))
        if word.endswith((",", ":", ".")):
            parts.append(np.zeros(round(0.15 * sr)))
    parts.append(np.zeros(sr // 10))
    return np.concatenate(parts).astype(np.float32)


def test_the_cut_is_the_pause_after_the_fragment_not_the_comma_inside_it() -> None:
    # "one two, and: three": the comma before "and" pauses as long as the cut mark after it.
    first, second = speak_turn(["one two, and", "three four"], _tone_synth)
    word = SAMPLE_RATE // 5
    assert len(first) == pytest.approx(3 * word + 0.15 * SAMPLE_RATE, abs=0.01 * SAMPLE_RATE)
    assert len(second) == pytest.approx(2 * word, abs=0.01 * SAMPLE_RATE)


def test_three_fragments_and_a_sentence_end_cut_in_order() -> None:
    parts = speak_turn(["I don't know.", "maybe we could,", "go out"], _tone_synth)
    word = SAMPLE_RATE // 5
    assert [round(len(p) / word, 1) for p in parts] == [3.0, 3.0, 2.0]


def test_find_cut_falls_back_to_the_quietest_frame_without_a_pause() -> None:
    sr = SAMPLE_RATE
    loud = 0.5 * np.sin(np.arange(2 * sr) * 0.05)
    loud[round(1.2 * sr):round(1.205 * sr)] *= 0.01
    cut = find_cut(loud.astype(np.float32), estimate=round(1.0 * sr))
    assert abs(cut - 1.2 * sr) <= 0.01 * sr
    with pytest.raises(ValueError, match="no room to cut"):
        find_cut(loud.astype(np.float32), estimate=2 * sr)


def test_a_moving_face_is_drawn_for_each_frame_at_its_media_time(tmp_path):
    asked: list[float] = []

    def picture(t: float) -> np.ndarray:
        asked.append(t)
        width, height = scene_size((160, 120))
        return np.full((height, width, 3), round(200 * t), np.uint8)

    path = write_media(tmp_path / "clip.mkv", np.zeros(SAMPLE_RATE, np.int16), picture, fps=10, size=(160, 120))
    assert asked == pytest.approx([k / 10 for k in range(11)])
    with av.open(str(path)) as container:
        levels = [float(frame.to_ndarray(format="bgr24").mean()) for frame in container.decode(video=0)]
    assert levels == pytest.approx([200 * k / 10 for k in range(11)], abs=6)
