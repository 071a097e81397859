"""The loader: valid items kept with their unknown keys, every bad item reported by index and field."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.humansense.loader import load_dataset
from benchmarks.humansense.media import MediaError, probe


def test_valid_items_and_bad_items_by_index_and_field(minidata) -> None:
    ds = load_dataset(minidata.vqa, minidata.root)
    assert [i.index for i in ds.items] == minidata.valid_vqa()
    assert [(p.index, p.field) for p in ds.problems] == [
        (7, "questions.question"), (8, "questions.options"), (9, "questions.question_pattern"),
        (10, "questions.options")]
    assert "unknown pattern 'Fill in the blank'" in str(ds.problems[2])
    assert len(ds.data) == 13


def test_unknown_keys_kept_and_media_resolved_against_root(minidata) -> None:
    ds = load_dataset(minidata.vqa, minidata.root)
    rr2 = next(i for i in ds.items if i.index == 6)
    assert rr2.raw["questions"]["video_or_clip"] == "clip" and rr2.q["time"] == "[0 - 3]"
    assert rr2.media_path == minidata.root / "data/videos/talk.mp4"
    assert rr2.column == "RR2"


@pytest.mark.parametrize("element, field", [
    ("not an object", "item"),
    ({"questions": {}}, "video_path"),
    ({"video_path": "x.mp4", "questions": {"question": "q", "task_type": "Emo_Strategy",
      "question_pattern": "Multiple-choice question (select one answer choice)", "answer": "F",
      "options": ["A. a", "B. b"]}}, "questions.answer"),
    ({"video_path": "x.mp4", "questions": {"question": "q", "task_type": "HC",
      "question_pattern": "Question and answer (Arabic numerals)", "answer": "three"}}, "questions.answer"),
    ({"video_path": "x.mp4", "questions": {"question": "q", "task_type": "LD",
      "question_pattern": "Judgment question (Yes or No)", "answer": "Maybe"}}, "questions.answer"),
    ({"video_path": "x.mp4", "questions": {"question": "q", "task_type": "LD",
      "question_pattern": "Judgment question (Yes or No)", "answer": "Yes", "fps": 0}}, "questions.fps"),
])
def test_each_kind_of_bad_item_is_named(tmp_path: Path, element, field) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps([element]))
    ds = load_dataset(path, tmp_path)
    assert ds.items == () and [p.field for p in ds.problems] == [field]


def test_unreadable_data_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text("{not json")
    with pytest.raises(ValueError, match="d.json: not valid JSON"):
        load_dataset(tmp_path / "d.json", tmp_path)
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_dataset(tmp_path / "nope.json", tmp_path)


def test_audio_only_items_are_recognised_from_the_media(minidata) -> None:
    assert not probe(minidata.root / "data/audios/call.wav").has_video
    assert not probe(minidata.root / "data/audios/chat.mp3").has_video
    talk = probe(minidata.root / "data/videos/talk.mp4")
    assert talk.has_video and talk.has_audio
    with pytest.raises(MediaError, match="corrupt.mp4"):
        probe(minidata.root / "data/videos/corrupt.mp4")
    with pytest.raises(MediaError, match="not found"):
        probe(minidata.root / "data/videos/gone.mp4")
