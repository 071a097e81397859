"""The session report page: each turn shows how the user seemed, its flags and the evidence for it; a damaged
input file is named with its line."""
from __future__ import annotations

import json

import pytest

from agent.cli.report import write_report

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
    assert "words: negative (doctor, results); face: smiling; likely masking" in page
    assert "You&#x27;re smiling" in page


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
    assert "0.8s · smile 0.80, head +12° / -4°, gaze away, mouth open" in figures   # the cue at 0.8 s is away
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
