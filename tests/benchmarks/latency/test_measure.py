"""Ground-truth measurement: known offsets, words, stops and resumptions recovered from constructed recordings."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.latency.measure import Recording, agent_spans, lost_words, measure, read_recording
from benchmarks.latency.overlaps import STOP_GAP_S

TOL_MS = 20.0


def test_voice_to_voice_cut_ins_barge_ins_and_unanswered(constructed, tmp_path) -> None:
    rec = read_recording(constructed.write(tmp_path / "rec.wav"))
    result = measure(constructed.truth, rec, constructed.reports)
    for turn, want in zip(result.turns, constructed.v2v_ms):
        if want is None:
            assert turn.v2v_ms is None and not turn.answered
        else:
            assert turn.v2v_ms == pytest.approx(want, abs=TOL_MS)
    for turn, want in zip(result.turns, constructed.barge_in_stop_ms):
        if want is None:
            assert turn.barge_in_stop_ms is None
        else:
            assert turn.barge_in_stop_ms == pytest.approx(want, abs=TOL_MS)
    assert tuple(t.turn for t in result.turns if t.cut_in) == constructed.cut_in_turns
    assert result.cut_ins == 2 and result.unanswered == 1 and result.barge_ins == 2 and result.proactive == 1


def test_stage_times_come_from_the_matching_reported_turn(constructed, tmp_path) -> None:
    rec = read_recording(constructed.write(tmp_path / "rec.wav"))
    turns = measure(constructed.truth, rec, constructed.reports).turns
    assert turns[0].stages_ms["endpoint_wait"] == 400.0 and turns[0].stages_ms["tts_first_audio"] == 15.0
    assert turns[0].reported_v2v_ms == 790.0
    assert turns[4].stages_ms["endpoint_wait"] == 300.0 and turns[4].stages_ms["asr"] is None
    assert all(v is None for v in turns[1].stages_ms.values())


def test_agent_spans_merge_short_pauses_and_are_sample_accurate(constructed) -> None:
    spans = agent_spans(constructed.stereo[:, 1], 16000)
    assert len(spans) == 7
    assert spans[0][0] == pytest.approx(2.8, abs=0.002) and spans[0][1] == pytest.approx(4.0, abs=0.002)
    assert agent_spans(np.zeros(16000, np.int16), 16000) == []


def test_a_mono_file_is_not_a_recording(tmp_path) -> None:
    import soundfile as sf

    sf.write(str(tmp_path / "mono.wav"), np.zeros(1600, np.int16), 16000)
    with pytest.raises(ValueError, match="mono.wav: expected a stereo recording"):
        read_recording(tmp_path / "mono.wav")


def test_lost_words_are_reference_words_missing_from_the_transcript() -> None:
    assert lost_words("so I was thinking and then I left", "then I left") == 5
    assert lost_words("I worry about her", "I worried about her") == 0   # a misheard word is not a lost one
    assert lost_words("I worry about her", "I worry about her mother") == 0
    assert lost_words("Hello, there!", "hello there") == 0


def test_each_whole_turn_is_scored_against_its_report_and_unreported_turns_lose_every_word(with_overlaps,
                                                                                            tmp_path) -> None:
    rec = read_recording(with_overlaps.write(tmp_path / "rec.wav"))
    result = measure(with_overlaps.truth, rec, with_overlaps.reports, with_overlaps.trace)
    whole, split, missing = result.turns
    assert whole.reported and whole.word_error_rate == 0.0 and whole.lost_words == 0 and whole.words == 7
    # Two fragments; the report holds only the second: the first fragment's five words are lost.
    assert split.reported and split.words == 9 and split.lost_words == 5
    assert split.word_error_rate == pytest.approx(5 / 9)
    assert not missing.reported and missing.word_error_rate is None and missing.lost_words == missing.words == 4
    assert result.extra_turns == 1   # the false interruption "oh" taken for a turn
    assert [t.v2v_ms for t in result.turns] == [pytest.approx(600, abs=TOL_MS), pytest.approx(600, abs=TOL_MS),
                                                pytest.approx(500, abs=TOL_MS)]
    assert result.cut_ins == 0 and result.unanswered == 0


def test_sounds_over_the_agent_stopped_or_resumed_it_as_the_recording_shows(with_overlaps, tmp_path) -> None:
    rec = read_recording(with_overlaps.write(tmp_path / "rec.wav"))
    backchannel, cough, resumed, answered, idle = measure(with_overlaps.truth, rec, with_overlaps.reports,
                                                          with_overlaps.trace).overlaps
    assert backchannel.over_agent and not backchannel.stopped and backchannel.stop_ms is None
    assert cough.over_agent and cough.stopped and not cough.resumed
    assert cough.stop_ms == pytest.approx(150, abs=TOL_MS)
    assert resumed.kind == "false_interrupt" and resumed.stopped and resumed.resumed
    assert resumed.stop_ms == pytest.approx(100, abs=TOL_MS)
    assert answered.stopped and not answered.resumed   # the agent spoke again, but to answer "oh" as a turn
    assert not idle.over_agent and not idle.stopped and not idle.resumed


def test_the_trace_cross_checks_each_overlap_and_is_null_without_a_trace(with_overlaps, tmp_path) -> None:
    rec = read_recording(with_overlaps.write(tmp_path / "rec.wav"))
    traced = measure(with_overlaps.truth, rec, with_overlaps.reports, with_overlaps.trace)
    assert traced.traced
    assert [o.trace_stopped for o in traced.overlaps] == [False, True, True, True, False]
    assert [o.trace_resumed for o in traced.overlaps] == [False, False, True, False, False]
    assert [o.trace_ignored for o in traced.overlaps] == [True, False, False, False, False]
    untraced = measure(with_overlaps.truth, rec, with_overlaps.reports)
    assert not untraced.traced
    assert all(o.trace_stopped is None and o.trace_resumed is None and o.trace_ignored is None
               for o in untraced.overlaps)
    assert [o.stopped for o in untraced.overlaps] == [o.stopped for o in traced.overlaps]


def test_a_stop_is_silence_longer_than_a_pause_between_sentences() -> None:
    from benchmarks.latency.render import GroundTruth, TrueOverlap, TrueTurn

    sr = 16000
    truth = GroundTruth("gap", "0" * 16, 6.0, sr, (TrueTurn(0, 0.5, 1.0, "hi", ((0.5, 1.0),)),),
                        overlaps=(TrueOverlap("cough", 2.0, 2.3, "", 0.0, 0),))
    for silent_s, stopped in ((STOP_GAP_S - 0.05, False), (STOP_GAP_S + 0.05, True)):
        agent = np.zeros(6 * sr, np.int16)
        agent[round(1.5 * sr):round(2.1 * sr)] = 3000
        agent[round((2.1 + silent_s) * sr):round(4.0 * sr)] = 3000
        rec = Recording(user=np.zeros_like(agent), agent=agent, sample_rate=sr)
        (overlap,) = measure(truth, rec).overlaps
        assert overlap.over_agent and overlap.stopped is stopped
        # Sounding again soon after a real stop is a resumption.
        assert overlap.resumed is stopped
