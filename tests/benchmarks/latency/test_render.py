"""Rendering: user turns (hesitations cut from one synthesis), overlaps and a room-noise floor, with sample-accurate
ground truth, cached."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agent.demo.synth import trim
from benchmarks.latency.render import LEVEL, render, render_samples, speech_level_db
from benchmarks.latency.scenario import ScenarioError, parse_scenario
from benchmarks.latency.sounds import COUGH_S, NOISE_DBFS, dbfs, room_noise
from floor import SAMPLE_RATE, float_to_int16

SCRIPT = """\
agent_latency 1.0
pause 0.5
user: I went to the doctor because
hesitate 0.8
user: my back has been hurting.
pause 1.0
user: Fine.
interrupt after 0.5
user: Stop.
backchannel after 0.6: yeah
cough after 1.2
pause 0.5
user: Okay then.
false_interrupt after 0.7: hmm
silence 2
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    cache = tmp_path_factory.mktemp("cache")
    return render(parse_scenario(SCRIPT, "demo.txt"), cache), cache


def _speech_only(audio: np.ndarray) -> np.ndarray:
    """The render minus its (deterministic) noise floor: exact zeros wherever nothing was placed."""
    return audio.astype(np.int32) - float_to_int16(room_noise(len(audio), NOISE_DBFS))


def _bounds(speech: np.ndarray, start_s: float, stop_s: float) -> tuple[float, float]:
    a, b = round(start_s * SAMPLE_RATE), round(stop_s * SAMPLE_RATE)
    loud = np.flatnonzero(speech[a:b] != 0) + a
    return loud[0] / SAMPLE_RATE, (loud[-1] + 1) / SAMPLE_RATE


def test_ground_truth_is_where_the_speech_and_the_overlaps_really_are(rendered) -> None:
    result, _ = rendered
    audio, sr = sf.read(str(result.media), dtype="int16")
    truth = result.truth
    assert sr == SAMPLE_RATE and audio.ndim == 1 and len(audio) == round(truth.duration_s * SAMPLE_RATE)
    assert len(truth.turns) == 4 and [o.kind for o in truth.overlaps] == ["backchannel", "cough", "false_interrupt"]
    sounds = sorted([seg for turn in truth.turns for seg in turn.segments] +
                    [(o.start_s, o.end_s) for o in truth.overlaps])
    speech = _speech_only(audio)
    befores = [0.0] + [b for _, b in sounds]
    afters = [a for a, _ in sounds[1:]] + [truth.duration_s]
    for (start, end), before, after in zip(sounds, befores, afters):
        found = _bounds(speech, before, after)
        assert abs(found[0] - start) <= 1.5 / SAMPLE_RATE and abs(found[1] - end) <= 1.5 / SAMPLE_RATE  # a sample
    assert truth.turns[0].start_s == 0.5 and truth.noise_dbfs == NOISE_DBFS


def test_timing_of_hesitations_interruptions_overlaps_and_silence(rendered) -> None:
    truth = rendered[0].truth
    first, second, third, fourth = truth.turns
    assert first.text == "I went to the doctor because my back has been hurting." and len(first.segments) == 2
    assert first.segments[1][0] - first.segments[0][1] == pytest.approx(0.8, abs=1e-4)
    assert second.start_s - first.end_s == pytest.approx(1.0, abs=1e-4)
    assert third.interrupt and not second.interrupt and not fourth.interrupt
    assert third.start_s - second.end_s == pytest.approx(1.0 + 0.5, abs=1e-4)
    backchannel, cough, false = truth.overlaps
    assert backchannel.start_s - third.end_s == pytest.approx(1.0 + 0.6, abs=1e-4)   # from the answered turn
    assert cough.start_s - third.end_s == pytest.approx(1.0 + 1.2, abs=1e-4)
    assert cough.end_s - cough.start_s == pytest.approx(COUGH_S, abs=1e-4)
    assert backchannel.after_turn == cough.after_turn == 2 and false.after_turn == 3
    assert (backchannel.text, false.text, backchannel.level_db) == ("yeah", "hmm", -9.0)
    assert fourth.start_s - cough.end_s == pytest.approx(0.5, abs=1e-4)               # pauses follow the last sound
    assert false.start_s - fourth.end_s == pytest.approx(1.7, abs=1e-4)
    assert truth.silences == ((false.end_s, pytest.approx(false.end_s + 2.0, abs=1e-4)),)


def test_user_lines_at_one_peak_and_sounds_over_the_agent_at_their_loudness(rendered) -> None:
    result, _ = rendered
    audio, _ = sf.read(str(result.media), dtype="int16")
    speech = _speech_only(audio)

    def span(a: float, b: float) -> np.ndarray:
        return speech[round(a * SAMPLE_RATE):round(b * SAMPLE_RATE)]

    truth = result.truth
    line = span(truth.turns[0].start_s, truth.turns[0].end_s)
    assert float(np.abs(line).max()) / 32768 == pytest.approx(LEVEL, abs=1e-3)
    backchannel, cough, false = truth.overlaps

    def lines_before(overlap) -> float:
        """The user's usual loudness so far: the median of their fragments' levels."""
        return float(np.median([speech_level_db(span(a, b)) for t in truth.turns for a, b in t.segments
                                if b <= overlap.start_s]))

    assert speech_level_db(span(backchannel.start_s, backchannel.end_s)) == pytest.approx(
        lines_before(backchannel) - 9.0, abs=0.5)
    assert float(np.abs(span(cough.start_s, cough.end_s)).max()) / 32768 == pytest.approx(LEVEL, abs=1e-3)
    assert speech_level_db(span(false.start_s, false.end_s)) == pytest.approx(lines_before(false), abs=0.5)


def test_the_room_noise_floor_is_pinkish_at_minus_50_dbfs(rendered) -> None:
    result, _ = rendered
    audio, _ = sf.read(str(result.media), dtype="int16")
    quiet = audio[:round(0.5 * SAMPLE_RATE)].astype(np.float64) / 32768   # the opening pause: noise alone
    assert np.count_nonzero(quiet) > 0.9 * len(quiet)
    assert dbfs(quiet) == pytest.approx(-50.0, abs=1.5)
    noise = room_noise(10 * SAMPLE_RATE)
    assert dbfs(noise) == pytest.approx(NOISE_DBFS, abs=0.01) and np.array_equal(noise, room_noise(10 * SAMPLE_RATE))
    power = np.abs(np.fft.rfft(noise)) ** 2
    freqs = np.fft.rfftfreq(len(noise), 1 / SAMPLE_RATE)
    assert power[(freqs > 100) & (freqs < 500)].mean() > 10 * power[(freqs > 2000) & (freqs < 4000)].mean()
    assert power[freqs > 6000].mean() < 1e-3 * power[(freqs > 100) & (freqs < 500)].mean()


def test_an_overlap_the_script_is_already_past_is_a_file_line_error() -> None:
    script = parse_scenario("agent_latency 0.5\nuser: one two\npause 3\ncough after 0.5\npause 1\n", "late.txt")
    with pytest.raises(ScenarioError, match=r"^late.txt:4: cough after 0.5: the script is already past"):
        render_samples(script, lambda text: np.full(SAMPLE_RATE // 2, 0.5, np.float32))


def test_render_is_cached_by_script_hash(rendered) -> None:
    result, cache = rendered

    def no_synth(text: str) -> np.ndarray:
        raise AssertionError("a cached scenario must not be synthesized again")

    again = render(parse_scenario(SCRIPT, "demo.txt"), cache, synth=no_synth)
    assert again.media == result.media and again.truth == result.truth
    with pytest.raises(AssertionError):
        render(parse_scenario(SCRIPT + "pause 1\n", "demo.txt"), cache, synth=no_synth)


def test_trim_and_layout_with_a_known_synth(tmp_path: Path) -> None:
    tone = np.concatenate([np.zeros(100), np.sin(np.arange(1600) / 5), np.zeros(50)]).astype(np.float32)
    assert len(trim(tone)) <= 1600 and len(trim(tone)) > 1500
    result = render(parse_scenario("pause 0.25\nuser: x\npause 0.5\n", "t.txt"), tmp_path, synth=lambda _: tone)
    turn = result.truth.turns[0]
    assert turn.start_s == 0.25  # trimmed speech starts exactly where the pause ends
    assert turn.end_s == pytest.approx(turn.start_s + len(trim(tone)) / SAMPLE_RATE, abs=1e-9)


def test_camera_on_is_the_same_audio_beside_a_real_face_video(rendered) -> None:
    import av

    result, cache = rendered
    camera = render(result.scenario, cache, camera=True)
    assert camera.media.suffix == ".mkv" and camera.truth == result.truth
    with av.open(str(camera.media)) as container:
        video = container.streams.video[0]
        assert (video.width, video.height) == (640, 480)
        container.seek(0)
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    wav, _ = sf.read(str(result.media), dtype="int16")
    assert np.array_equal(pcm[:len(wav)], wav)   # lossless: the ground truth holds to the sample
