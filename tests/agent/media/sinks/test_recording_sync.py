"""The recording on disk while it is being made: every second of media is written with a valid header, so a killed
process leaves a playable ``.partial`` WAV; later changes inside the window (a barge-in cut) reach the file too."""
import wave

import numpy as np
import soundfile as sf

from agent.media.sinks.recording import ConversationRecorder

CHUNK = 512


def feed(rec: ConversationRecorder, seconds: float, start: float = 0.0, value: int = 1000) -> float:
    """User audio in 32 ms chunks, as the session feeds it; returns where it stopped."""
    t = start
    while t < start + seconds - 1e-9:
        rec.user(t, np.full(CHUNK, value, np.int16))
        t += CHUNK / 16000
    return t


def frames_by_header(path) -> int:
    """What a reader that trusts the WAV header sees (Python's wave module, browsers), without the writer closing."""
    with wave.open(str(path)) as w:
        return w.getnframes()


def test_the_partial_file_holds_each_second_with_a_header_that_says_so(tmp_path):
    rec = ConversationRecorder(tmp_path / "conv.wav")
    partial = tmp_path / "conv.wav.partial"
    assert frames_by_header(partial) == 0                     # a valid, empty WAV from the start
    feed(rec, 0.5)
    assert frames_by_header(partial) == 0                     # less than a second in: nothing due yet
    feed(rec, 2.5, start=0.512)
    on_disk = frames_by_header(partial)
    assert 2 * 16000 <= on_disk <= 3 * 16000                   # at most a second behind the 3 s fed
    data, sr = sf.read(partial, dtype="int16", frames=on_disk)
    assert sr == 16000 and (data[:, 0] == 1000).all() and (data[:, 1] == 0).all()
    rec.abort()


def test_a_cut_inside_the_window_reaches_a_second_already_on_disk(tmp_path):
    rec = ConversationRecorder(tmp_path / "conv.wav")
    partial = tmp_path / "conv.wav.partial"
    feed(rec, 1.0)
    rec.agent(1.0, np.full(32000, 2000, np.int16))             # 2 s of agent speech scheduled from 1.0 s
    t = feed(rec, 1.6, start=1.024)
    assert frames_by_header(partial) >= 2 * 16000
    rec.cut_agent(1.5, 3.0)                                    # barge-in at 1.5 s: the rest was never heard
    feed(rec, 1.5, start=t)
    data, _ = sf.read(partial, dtype="int16", frames=frames_by_header(partial))
    agent = data[:, 1]
    assert (agent[16000:24000] == 2000).all() and (agent[24000:48000] == 0).all()
    final = rec.close()
    assert sf.read(final, dtype="int16")[0][24000:48000, 1].max() == 0


def test_a_window_shorter_than_the_session_loses_nothing(tmp_path):
    rec = ConversationRecorder(tmp_path / "conv.wav", window_s=2.0)    # memory holds 2 s; the session runs 12
    t = feed(rec, 6.0, value=1000)
    feed(rec, 6.0, start=t, value=-1000)
    data, _ = sf.read(rec.close(), dtype="int16")
    n = int(t * 16000)
    assert len(data) == 2 * n and (data[:n, 0] == 1000).all() and (data[n:, 0] == -1000).all()


class FullDisk:
    """The real sound file, until the disk fills up: every later write fails as libsndfile reports it."""

    def __init__(self, file, writes_left: int) -> None:
        self.file, self.writes_left = file, writes_left

    def write(self, data):
        if self.writes_left == 0:
            raise sf.LibsndfileError(0, "System error : No space left on device.")
        self.writes_left -= 1
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


def test_a_full_disk_stops_the_recording_keeps_what_was_written_and_says_so_once(tmp_path):
    rec = ConversationRecorder(tmp_path / "conv.wav")
    failures = []
    rec.on_failure = failures.append
    rec._file = FullDisk(rec._file, writes_left=2)
    t = feed(rec, 2.5)                                         # two syncs (1 s, 2 s) reach the disk
    rec.agent(t, np.full(16000, 2000, np.int16))
    feed(rec, 3.0, start=t)                                    # the third write fails; later audio is ignored
    assert len(failures) == 1 and "No space" in str(failures[0])
    assert rec.close() == tmp_path / "conv.wav.partial"        # incomplete: never given the final name
    assert not (tmp_path / "conv.wav").exists()
    partial = tmp_path / "conv.wav.partial"
    data, _ = sf.read(partial, dtype="int16", frames=frames_by_header(partial))
    assert 16000 <= len(data) <= 3 * 16000 and (data[:, 0] == 1000).all()
