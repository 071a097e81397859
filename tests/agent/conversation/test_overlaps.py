"""Smoke runs of sound over the agent through the whole loop: a murmured "yeah" and a cough pass, a "hmm" resumes it.

The rules themselves are specified in tests/dialogue/turntaking/; these check the wiring end to end.
"""
import numpy as np
import pytest
import soundfile as sf

from agent.demo.synth import Line, render_audio
from tests.agent.replaying import replay_fast

pytestmark = pytest.mark.slow
SR = 16000


def conversation(tmp_path, overlaps):
    """One user line, then sounds laid over where the agent will be answering (fast replay: ~0.5 s after the line)."""
    pcm, truth = render_audio([Line("I had a really long and difficult day at work today.", 9.0)])
    pcm = pcm.astype(np.int32)
    rng = np.random.default_rng(0)
    pcm += rng.normal(0, 100, len(pcm)).astype(np.int32)  # a room-noise floor, about -50 dBFS
    for after_s, sound in overlaps:
        at = int((truth[-1].end_s + after_s) * SR)
        pcm[at: at + len(sound)] += sound
    path = tmp_path / "overlaps.wav"
    sf.write(path, np.clip(pcm, -32768, 32767).astype(np.int16), SR)
    return path


def spoken(text, gain):
    pcm, _ = render_audio([Line(text, 0.0)], lead_s=0.0)
    return (pcm.astype(np.float32) * gain).astype(np.int32)


def cough(seconds=0.3):
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * SR)) / SR
    envelope = np.minimum(t / 0.008, 1.0) * np.exp(-t / 0.07)
    return (rng.normal(0, 1, len(t)) * envelope * 12000).astype(np.int32)


def test_a_murmured_yeah_and_a_cough_do_not_stop_the_agent(tmp_path):
    media = conversation(tmp_path, [(1.6, spoken("Yeah.", 0.3)), (3.0, cough())])
    turns, trace = replay_fast(media, tmp_path)
    kinds = [e["type"] for e in trace]
    assert "barge_in" not in kinds
    assert kinds.count("overlap_ignored") >= 1
    assert len(turns) == 1 and turns[0]["agent_text"] and not turns[0]["interrupted"]


def test_a_short_hmm_stops_the_agent_which_then_goes_on_where_it_stopped(tmp_path):
    media = conversation(tmp_path, [(1.6, spoken("Hmm.", 1.0))])
    turns, trace = replay_fast(media, tmp_path)
    barge = [e for e in trace if e["type"] == "barge_in"]
    resumed = [e for e in trace if e["type"] == "agent_resumed"]
    assert barge and resumed and resumed[0]["stopped_at"] == pytest.approx(barge[0]["stopped_at"])
    assert len(turns) == 1 and not turns[0]["interrupted"]
    sentences = [e["text"] for e in trace if e["type"] == "agent_text"]
    assert turns[0]["agent_text"].split()[-1] == " ".join(sentences).split()[-1]   # it said its answer to the end
