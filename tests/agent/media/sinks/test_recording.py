"""The conversation recording: stereo, user left, agent right, sample 0 = session start, cut at barge-in."""
import numpy as np
import soundfile as sf

from agent.media.sinks.recording import ConversationRecorder


def test_layout_timing_and_barge_in_cut(tmp_path):
    path = tmp_path / "conv.wav"
    rec = ConversationRecorder(path, window_s=2.0)
    user = np.full(512, 1000, np.int16)
    for i in range(200):  # 6.4 s of user input, flushed in blocks as it goes
        t = i * 0.032
        rec.user(t, user)
        if i == 32:   # the agent starts speaking as the timeline reaches 1.024 s
            rec.agent(1.0, np.full(16000, 2000, np.int16))       # 1.0 .. 2.0 s
        if i == 157:
            rec.agent(5.0, np.full(16000, 3000, np.int16))       # 5.0 .. 6.0 s, cut at 5.5
        if i == 172:
            rec.cut_agent(5.5, 6.0)
    assert not path.exists()                              # nothing final until close
    rec.close()
    data, sr = sf.read(path, dtype="int16")
    assert sr == 16000 and data.shape == (200 * 512, 2)
    assert (data[:, 0] == 1000).all()
    agent = data[:, 1]
    assert (agent[:16000] == 0).all() and (agent[16000:32000] == 2000).all()
    assert (agent[32000:80000] == 0).all()
    assert (agent[80000:88000] == 3000).all() and (agent[88000:96000] == 0).all()


def test_abort_leaves_a_partial_file_not_the_final_name(tmp_path):
    path = tmp_path / "conv.wav"
    rec = ConversationRecorder(path)
    rec.user(0.0, np.ones(1600, np.int16))
    rec.abort()
    assert not path.exists()
    assert (tmp_path / "conv.wav.partial").exists()
