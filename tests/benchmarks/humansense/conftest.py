"""Fixtures: a mini HumanSense dataset in the published layout with real media, broken items included."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from tests.benchmarks.humansense.hs_data import MULTI, NUMERIC, OPTS4, SINGLE, SPEECH, YES_NO, MiniData, item, write_audio, write_video


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    from hibari import SAMPLE_RATE as TTS_RATE, Hibari

    from floor import SAMPLE_RATE, float_to_int16, resample

    audio = Hibari()(SPEECH, seed=0)
    return float_to_int16(resample(audio, TTS_RATE, SAMPLE_RATE))


@pytest.fixture(scope="session")
def minidata(tmp_path_factory: pytest.TempPathFactory, speech: np.ndarray) -> MiniData:
    root = tmp_path_factory.mktemp("hs") / "bench_data"
    (root / "data/videos").mkdir(parents=True)
    (root / "data/audios").mkdir(parents=True)
    write_video(root / "data/videos/talk.mp4", 36, 12, (64, 48), speech)
    write_video(root / "data/videos/silent.mp4", 36, 12, (64, 48), None)
    (root / "data/videos/corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    write_audio(root / "data/audios/call.wav", speech, "pcm_s16le")
    write_audio(root / "data/audios/chat.mp3", speech, "mp3")
    vqa = [
        item("data/videos/talk.mp4", "Emo_Strategy", SINGLE, "B", OPTS4, asr_en="I am so tired.",
             question="How does the speaker feel"),
        item("data/videos/silent.mp4", "Action_Recognition", SINGLE, "C", ["A. run", "B. sit", "C. wave"],
             question="What is the person doing"),
        item("data/videos/talk.mp4", "Talkingperson_Recognition", MULTI, "AC", OPTS4, asr_en="I am so tired.",
             question="Who is talking"),
        item("data/videos/silent.mp4", "Human_Counting", NUMERIC, "3", question="How many people appear"),
        item("data/videos/silent.mp4", "Lie_Detection", YES_NO, "No", question="Is the person lying"),
        item("data/videos/silent.mp4", "Abnormal_Recognition", SINGLE, "A", ["A. normal", "B. abnormal"],
             question="Is anything abnormal"),
        item("data/videos/talk.mp4", "Rapport_Recognition", SINGLE, "E",
             ["A. a", "B. b", "C. c", "D. d", "E. e"], asr_en="I am so tired.", video_or_clip="clip",
             question="How close are they",
             time="[0 - 3]"),
        {"video_path": "data/videos/talk.mp4", "questions": {"task_type": "Emo_Strategy", "question_pattern": SINGLE,
                                                            "answer": "A", "options": OPTS4}},
        item("data/videos/talk.mp4", "Emo_Strategy", SINGLE, "A", OPTS4 + ["E. e", "F. f"]),
        item("data/videos/talk.mp4", "Emo_Strategy", "Fill in the blank", "A", OPTS4),
        item("data/videos/talk.mp4", "Talkingperson_Recognition", MULTI, "AB", OPTS4[:3]),
        item("data/videos/gone.mp4", "Emo_Strategy", SINGLE, "A", OPTS4),
        item("data/videos/corrupt.mp4", "Emo_Strategy", SINGLE, "A", OPTS4),
    ]
    aqa = [
        item("data/audios/call.wav", "Fraud_Recognition", SINGLE, "A", ["A. fraud", "B. not fraud"], video=False,
             question="Is this call a fraud"),
        item("data/audios/chat.mp3", "Psychological_Chat", SINGLE, "D", ["A. a", "B. b", "C. c", "D. d", "E. e"],
             video=False, question="What should the counsellor say"),
    ]
    (root / "HumanSense_VQA.json").write_text(json.dumps(vqa, indent=4))
    (root / "HumanSense_AQA.json").write_text(json.dumps(aqa, indent=4))
    return MiniData(root, root / "HumanSense_VQA.json", root / "HumanSense_AQA.json", copy.deepcopy(vqa), speech)
