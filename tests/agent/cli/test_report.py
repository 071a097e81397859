"""The session report page: each turn shows how the user seemed, its flags and the evidence for it; the plots keep
their legends beside the data and shade flagged stretches; every symbol is explained; a damaged input file is named
with its line."""
from __future__ import annotations

import json
import os
import re

import pytest

from agent.cli.outputs import report_keyframes
from agent.cli.report import timeline_figure, write_report
from agent.files import atomic_write_json

STATE = {"type": "emotion_state", "t": 3.0, "valence": -0.45, "arousal": 0.1, "label": "sad", "confidence": 0.3,
         "conflicts": ["face:positive vs words:negative"], "conversation_valence": -0.59, "masking": True,
         "guarded": False, "reason": "words: negative (doctor, results); face: smiling; likely masking"}
TURN = {"user_start_s": 1.0, "user_end_s": 3.0, "user_text": "The doctor called about my results.",
        "agent_text": "You're smiling, but what you're telling me sounds hard.", "agent_emotion": "concerned",
        "decision": "respond", "interrupted": False, "latency_ms": {"voice_to_voice": 640.0},
        "cues": {k: v for k, v in STATE.items() if k not in ("type", "t")} | {"face_present": True}}


def test_the_report_shows_the_state_its_flags_and_its_reason(tmp_path):
    events = [{"type": "session_started", "t": 0.0, "brain": "cue"},
              {"type": "speech_ended", "t": 3.0, "start": 1.0}, STATE]
    (tmp_path / "trace.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (tmp_path / "turns.json").write_text(json.dumps([TURN]))
    page = write_report(tmp_path).read_text()
    assert "sad <b>(masking)</b> ⚠" in page
    assert ("words: negative (doctor, results); face: smiling; likely masking · "
            "disagree: face:positive vs words:negative") in page
    assert "You&#x27;re smiling" in page


def test_every_symbol_of_the_turn_table_is_explained_in_the_key(tmp_path):
    (tmp_path / "trace.jsonl").write_text(json.dumps({"type": "session_started", "t": 0.0}) + "\n")
    (tmp_path / "turns.json").write_text(json.dumps([TURN]))
    page = write_report(tmp_path).read_text()
    key = page.split('<dl class="key">')[1].split("</dl>")[0]
    for symbol in ("⚠", "(masking)", "(guarded)", "(cut off)", "(dropped)", "v2v", "keyframes"):
        assert f"<dt>{symbol}" in key, symbol


def test_an_answer_the_user_talked_through_is_marked_dropped_and_its_successor_says_so(tmp_path):
    first = {**TURN, "user_end_s": 2.0, "user_text": "I keep thinking.", "agent_text": "Okay,", "interrupted": True}
    whole = {**TURN, "user_text": "I keep thinking that I will fail."}
    cut = {**TURN, "user_start_s": 5.0, "user_end_s": 6.0, "agent_text": "I see", "interrupted": True}
    (tmp_path / "trace.jsonl").write_text(json.dumps({"type": "session_started", "t": 0.0}) + "\n")
    (tmp_path / "turns.json").write_text(json.dumps([first, whole, cut]))
    page = write_report(tmp_path).read_text()
    rows = page.split("<h2>Turns</h2>")[1].split("<tr>")[2:]
    assert "Okay, <em>(dropped: the user went on, see #2)</em>" in rows[0]
    assert "<em>(#1 and its continuation)</em> I keep thinking that I will fail." in rows[1]
    assert "I see <em>(cut off)</em>" in rows[2]
    assert "3 turns · 1 answer dropped · masking in #1, #2, #3 · cues disagree in #1, #2, #3" in page


def _session_events() -> list[dict]:
    """Ten seconds: the user speaks 1-3 s and 6-8 s; the agent answers 3.5-6.2 s, is interrupted at 6.2 s, and
    backchannels at 7 s; states flag masking at 2-4 s and 7 s, conflicts at 3 s; the face looks away at 2-2.2 s, goes
    unanalysed from 2.4 to 4 s, and nods at 5 s."""
    events = [{"type": "session_started", "t": 0.0}, {"type": "speech_ended", "t": 3.0, "start": 1.0},
              {"type": "agent_speech_started", "t": 3.5}, {"type": "barge_in", "t": 6.2},
              {"type": "agent_speech_ended", "t": 6.2}, {"type": "speech_ended", "t": 8.0, "start": 6.0},
              {"type": "backchannel", "t": 7.0}]
    events += [{**STATE, "t": float(t), "masking": t in (2, 3, 4, 7), "conflicts": ["x"] if t == 3 else []}
               for t in range(10)]
    events += [{"type": "face_cue", "t": t / 5, "smile": 0.5, "nod": t == 25, "gaze_away": 10 <= t < 12}
               for t in range(50) if not 12 <= t < 20]
    return events


def test_legends_sit_beside_the_plots_and_name_every_mark():
    import matplotlib.pyplot as plt

    fig = timeline_figure(_session_events(), [TURN])
    try:
        fig.canvas.draw()
        labels: list[str] = []
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is None:
                continue
            assert legend.get_window_extent().x0 >= ax.get_window_extent().x1   # outside, to the right
            labels += [text.get_text() for text in legend.get_texts()]
    finally:
        plt.close(fig)
    for mark in ("user interrupts: the agent stops", 'agent backchannel ("mm-hm")', "masking: a smile over sad words",
                 "conflicting cues (face, voice, words)", "nod"):
        assert mark in labels


def _shaded(ax) -> list[tuple[float, float]]:
    """The (start, end) of each vertical span on a panel (a Rectangle or, in older matplotlib, a Polygon)."""
    from matplotlib.patches import Polygon, Rectangle

    return sorted((round(p.get_x(), 1), round(p.get_x() + p.get_width(), 1)) if isinstance(p, Rectangle)
                  else tuple(round(x, 1) for x in sorted({v[0] for v in p.get_xy()}))
                  for p in ax.patches if isinstance(p, (Polygon, Rectangle)))


def test_flagged_stretches_are_shaded_once_each_not_marked_per_sample():
    import matplotlib.pyplot as plt

    fig = timeline_figure(_session_events(), [TURN])
    try:
        emotion = fig.axes[1]
        shaded = _shaded(emotion)
        assert not emotion.collections                    # no scatter of markers
    finally:
        plt.close(fig)
    # masking 2-4 s held until the unflagged state at 5 s, masking at 7 s until 8 s, the conflict at 3 s until 4 s
    assert shaded == [(2.0, 5.0), (3.0, 4.0), (7.0, 8.0)]


def test_looking_away_is_shaded_only_while_the_face_was_seen():
    import matplotlib.pyplot as plt

    fig = timeline_figure(_session_events(), [TURN])
    try:
        spans = _shaded(fig.axes[2])
    finally:
        plt.close(fig)
    assert (2.0, 2.2) in spans          # looking away: its two samples, not on across the gap after them
    assert not [s for s in spans if s[0] == 2.0 and s[1] > 2.2]


def test_the_page_and_the_data_files_get_the_mode_new_files_get(tmp_path):
    (tmp_path / "trace.jsonl").write_text(json.dumps({"type": "session_started", "t": 0.0}) + "\n")
    old = os.umask(0o022)
    try:
        atomic_write_json(tmp_path / "turns.json", [TURN])
        page = write_report(tmp_path)
    finally:
        os.umask(old)
    assert oct(page.stat().st_mode & 0o777) == oct(0o644)
    assert oct((tmp_path / "turns.json").stat().st_mode & 0o777) == oct(0o644)
    assert not [p.name for p in tmp_path.iterdir() if re.search(r"\.tmp$", p.name)]    # no temporary file left


def test_a_turn_without_the_new_fields_still_renders(tmp_path):
    (tmp_path / "trace.jsonl").write_text(json.dumps({"type": "session_started", "t": 0.0}) + "\n")
    (tmp_path / "turns.json").write_text(json.dumps([{**TURN, "cues": {"label": "calm"}}]))
    page = write_report(tmp_path).read_text()
    assert "<td>calm</td>" in page and "class=\"why\"" not in page.split("<h2>Turns</h2>")[1]


def test_face_cues_are_drawn_over_time_and_on_the_keyframes(tmp_path):
    import cv2
    import numpy as np

    face = {"type": "face_cue", "face_present": True, "smile": 0.8, "gaze_offset": 30.0, "head_yaw": 12.0,
            "head_pitch": -4.0, "points": [[0.5, 0.4], [0.45, 0.5], [0.55, 0.5]]}
    events = [{"type": "session_started", "t": 0.0}]
    events += [{**face, "t": i * 0.2, "gaze_away": 3 <= i < 6, "nod": i == 7, "mouth_open": True} for i in range(10)]
    (tmp_path / "trace.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (tmp_path / "turns.json").write_text(json.dumps([TURN]))
    jpeg = cv2.imencode(".jpg", np.full((120, 160, 3), 40, np.uint8))[1].tobytes()
    page = write_report(tmp_path, [(0.8, jpeg), (9.0, jpeg)]).read_text()
    figures = page.split("<h2>Keyframes</h2>")[1]
    assert "0.8s · smile 0.80, head 12° right, looking away, mouth open" in figures   # pitch -4°: not worth saying
    assert "<figcaption>9.0s</figcaption>" in figures                            # no face cue near 9 s
    drawn, plain = (cv2.imdecode(np.frombuffer(__import__("base64").b64decode(src.split('"')[0]), np.uint8), 1)
                    for src in figures.split("base64,")[1:])
    assert drawn.max() > 150 and plain.max() < 60                                # dots on the one with a face


def test_a_damaged_file_is_named_with_its_line(tmp_path):
    (tmp_path / "turns.json").write_text(json.dumps([TURN]))
    (tmp_path / "trace.jsonl").write_text(json.dumps({"type": "session_started", "t": 0.0}) + "\n{\"type\": \"spe\n")
    with pytest.raises(ValueError, match=r"trace\.jsonl:2: not a JSON line"):
        write_report(tmp_path)
    (tmp_path / "trace.jsonl").write_text(json.dumps({"type": "session_started", "t": 0.0}) + "\n[1, 2]\n")
    with pytest.raises(ValueError, match=r"trace\.jsonl:2: not a trace event"):
        write_report(tmp_path)
    (tmp_path / "trace.jsonl").write_text(json.dumps({"type": "session_started", "t": 0.0}) + "\n")
    (tmp_path / "turns.json").write_text('[{"user_text": ')
    with pytest.raises(ValueError, match=r"turns\.json: not valid JSON"):
        write_report(tmp_path)


def test_the_page_shows_the_face_as_each_turn_ended_numbered_by_turn(tmp_path):
    import cv2
    import numpy as np

    jpeg = cv2.imencode(".jpg", np.full((120, 160, 3), 40, np.uint8))[1].tobytes()
    keyframes = [(float(t), jpeg) for t in range(0, 20)]
    turns = [{**TURN, "user_end_s": 3.4}, {**TURN, "user_start_s": 9.0, "user_end_s": 12.6}]
    chosen = report_keyframes(keyframes, turns)
    assert [t for t, _ in chosen] == [3.0, 13.0]
    assert [t for t, _ in report_keyframes(keyframes, [])] == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0]
    (tmp_path / "trace.jsonl").write_text(json.dumps({"type": "session_started", "t": 0.0}) + "\n")
    (tmp_path / "turns.json").write_text(json.dumps(turns))
    figures = write_report(tmp_path, chosen).read_text().split("<h2>Keyframes</h2>")[1]
    assert "<figcaption>#1 · 3.0s</figcaption>" in figures and "<figcaption>#2 · 13.0s</figcaption>" in figures
