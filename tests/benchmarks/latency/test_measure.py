"""Ground-truth measurement recovers known offsets from a constructed stereo recording within 20 ms."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.latency.measure import agent_spans, measure, read_recording

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
