"""The user's recent audio: any span of a turn can be cut out again, across the ring's wrap, gaps read as silence."""
import numpy as np

from agent.conversation.user_audio import UserAudio

SR = 16000


def ramp(t0, seconds):
    """Samples whose value encodes their own position, so a slice shows exactly where it came from."""
    start = int(t0 * SR)
    return ((np.arange(start, start + int(seconds * SR)) % 30000)).astype(np.int16)


def test_a_slice_returns_exactly_the_samples_of_that_span():
    audio = UserAudio(seconds=5)
    for k in range(40):
        audio.append(k * 0.032, ramp(k * 0.032, 0.032))
    got = audio.slice(0.5, 0.75)
    assert np.array_equal(got, ramp(0.5, 0.25))


def test_the_ring_keeps_only_the_last_seconds_across_its_wrap():
    audio = UserAudio(seconds=2)
    for k in range(200):
        audio.append(k * 0.032, ramp(k * 0.032, 0.032))
    end = 200 * 0.032
    assert np.array_equal(audio.slice(end - 1.5, end), ramp(end - 1.5, 1.5))
    assert len(audio.slice(0.0, end)) == 2 * SR       # older audio is gone, never invented
    assert len(audio.slice(0.0, 1.0)) == 0


def test_a_gap_in_the_input_reads_as_silence_and_the_future_is_empty():
    audio = UserAudio(seconds=3)
    audio.append(0.0, np.full(SR // 2, 100, np.int16))
    audio.append(1.0, np.full(SR // 2, 200, np.int16))
    gap = audio.slice(0.5, 1.0)
    assert len(gap) == SR // 2 and not gap.any()
    assert len(audio.slice(1.5, 2.0)) == 0
