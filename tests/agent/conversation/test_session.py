"""End to end: generated conversations (TTS user speech with known timing) replayed through the whole loop."""
import json
import re

import numpy as np
import pytest
import soundfile as sf

from agent.cli.main import main
from agent.demo.synth import Line, load_truth, render_conversation
from tests.agent.replaying import replay_fast

pytestmark = pytest.mark.slow


def words(text):
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def wer(ref, hyp):
    from perception.wer import word_error_rate

    return word_error_rate(ref, hyp)


@pytest.fixture(scope="module")
def conversation(tmp_path_factory):
    path = tmp_path_factory.mktemp("conv") / "talk.wav"
    render_conversation([
        Line("Hello, I had a really rough day at work today.", 8.0),
        Line("My manager criticized my project in front of everyone.", 8.0),
        Line("But I got some good news tonight, my sister is getting married!", 8.0),
    ], path)
    return path


def replay(media, out, *sets):
    turns, trace = replay_fast(media, out, *sets, record=out / "rec.wav")
    rec, sr = sf.read(out / "rec.wav", dtype="int16")
    return turns, trace, rec, sr


def agent_active(rec, sr, a, b):
    seg = rec[int(a * sr): int(b * sr), 1].astype(float)
    return seg.size > 0 and np.abs(seg).max() > 200


def test_every_turn_is_heard_understood_and_answered(conversation, tmp_path):
    truth = load_truth(conversation)
    turns, trace, rec, sr = replay(conversation, tmp_path)
    assert len(turns) == len(truth) == 3
    for turn, said in zip(turns, truth):
        assert wer(said.text, turn["user_text"]) <= 0.2, (said.text, turn["user_text"])
        assert turn["decision"] == "respond" and turn["agent_text"] and not turn["interrupted"]
        assert abs(turn["user_start_s"] - said.start_s) < 0.25
        assert abs(turn["user_end_s"] - said.end_s) < 0.25
        lat = turn["latency_ms"]
        assert lat["voice_to_voice"] is not None and lat["asr"] > 0 and lat["tts_first_audio"] > 0
        assert lat["voice_to_voice"] >= lat["endpoint_wait"] - 1
    assert len({t["agent_text"] for t in turns}) == 3  # no single canned line

    # the recording: stereo 16 kHz, user on the left as received, agent on the right, never over the user
    src, src_sr = sf.read(conversation, dtype="int16")
    assert sr == 16000 and rec.shape[1] == 2 and rec.shape[0] >= len(src)
    assert np.array_equal(rec[: len(src) - 512, 0], src[: len(src) - 512])
    for said in truth:
        assert not agent_active(rec, sr, said.start_s, said.end_s), "agent talked over the user"
    for turn, said in zip(turns, truth):
        first = turn["user_end_s"] + turn["latency_ms"]["voice_to_voice"] / 1000
        assert agent_active(rec, sr, first, first + 0.5)
        assert not agent_active(rec, sr, said.end_s + 0.05, first - 0.05)

    kinds = {e["type"] for e in trace}
    assert {"speech_started", "speech_ended", "transcript", "decision", "agent_speech_started",
            "agent_speech_ended", "voice_cue", "text_cue", "emotion_state", "turn"} <= kinds
    assert all(isinstance(e["t"], float) for e in trace)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["loop_lag_ms"]["p99"] >= 0 and metrics["rss_mb_peak"] > 50
    assert (tmp_path / "report.html").exists()


def test_a_user_who_goes_on_after_a_pause_barges_in_and_the_agent_stops(tmp_path):
    media = tmp_path / "hesitant.wav"
    truth = render_conversation([
        Line("I studied a lot for the exam, but I keep thinking | that I will forget everything on the day.",
             3.5, hesitation_s=1.6),
    ], media)
    turns, trace, rec, sr = replay(media, tmp_path, "output.report=false")
    assert not (tmp_path / "report.html").exists()  # asked for the data only
    barge = [e for e in trace if e["type"] == "barge_in"]
    assert barge, "the agent should have started in the pause and been interrupted"
    onset = truth[1].start_s
    assert abs(barge[0]["onset"] - onset) < 0.2
    assert barge[0]["stop_ms"] <= 300
    assert not agent_active(rec, sr, onset + 0.3, truth[1].end_s)
    first, *rest = turns
    assert first["interrupted"] and first["agent_text"]
    spoken = [e["text"] for e in trace if e["type"] == "agent_text" and e["t"] < barge[0]["stopped_at"]]
    assert len(words(first["agent_text"])) <= len(words(" ".join(spoken)))
    assert rest and rest[-1]["agent_text"] and not rest[-1]["interrupted"]  # the continuation is answered


def test_realtime_replay_paces_by_the_wall_clock(tmp_path):
    media = tmp_path / "short.wav"
    render_conversation([Line("Good morning, how are you?", 2.5)], media)
    import time

    t0 = time.perf_counter()
    code = main(["replay", str(media), "--quiet", "--out", str(tmp_path / "o")])
    elapsed = time.perf_counter() - t0
    assert code == 0
    duration = sf.info(media).duration
    assert elapsed >= duration * 0.9
    turns = json.loads((tmp_path / "o" / "turns.json").read_text())
    assert len(turns) == 1 and turns[0]["agent_text"]
    v2v = turns[0]["latency_ms"]["voice_to_voice"]
    assert 0 < v2v < 10_000  # loose: a timing bound in a unit test must survive a loaded machine


@pytest.mark.parametrize("argv, message", [
    (["replay", "missing.wav"], "missing.wav: no such file"),
    (["replay", "{junk}"], "not a readable media file"),
    (["replay", "{ok}", "--set", "vad.treshold=1"], "vad.treshold: unknown setting"),
    (["replay", "{ok}", "--set", "asr.model=/no/such/model"], "/no/such/model"),
])
def test_bad_input_is_one_clear_line_and_a_nonzero_exit(tmp_path, capsys, argv, message):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"garbage" * 50)
    ok = tmp_path / "ok.wav"
    sf.write(ok, np.zeros(1600, np.int16), 16000)
    argv = [a.replace("{junk}", str(junk)).replace("{ok}", str(ok)) for a in argv]
    assert main(argv + ["--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o" / "turns.json").exists()
