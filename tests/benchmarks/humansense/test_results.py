"""The results file: published layout, atomic rewrite, resume by index+video_path+question, never losing answers."""
from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from benchmarks.humansense.loader import load_dataset
from benchmarks.humansense.results import ResultsFile, ResultsFileError


def _data(minidata, tmp_path: Path):
    shutil.copy(minidata.vqa, tmp_path / "vqa.json")
    return load_dataset(tmp_path / "vqa.json", minidata.root)


def test_answers_go_under_the_model_name_and_errors_elsewhere(minidata, tmp_path: Path) -> None:
    ds = _data(minidata, tmp_path)
    out = tmp_path / "res.json"
    res = ResultsFile(out, ds, "M")
    res.record_answer(ds.items[0], "B", "frames: 4, audio: yes")
    res.record_error(ds.items[1], "boom")
    asyncio.run(res.save())
    saved = json.loads(out.read_text())
    assert saved[0]["questions"]["M"] == "B" and "M_error" not in saved[0]["questions"]
    assert saved[0]["questions"]["M_input"] == "frames: 4, audio: yes"   # what the answer was given, beside it
    assert saved[1]["questions"]["M_error"] == "boom" and "M" not in saved[1]["questions"]
    assert saved[7] == minidata.vqa_items[7]           # bad items are kept untouched
    assert list(tmp_path.glob(".res.json.*")) == []    # no temporary file left behind


def test_resume_takes_over_answers_of_every_model(minidata, tmp_path: Path) -> None:
    out = tmp_path / "res.json"
    first = ResultsFile(out, _data(minidata, tmp_path), "M")
    first.record_answer(first.dataset.items[0], "B", "frames: 4, audio: yes")
    first.save_now()
    other = ResultsFile(out, _data(minidata, tmp_path), "Other")
    assert other.answered(other.dataset.items[0]) is False
    other.record_answer(other.dataset.items[1], "C", "frames: 4, audio: no")
    other.save_now()
    again = ResultsFile(out, _data(minidata, tmp_path), "M")
    assert again.answered(again.dataset.items[0])
    assert again.dataset.items[1].q["Other"] == "C"


def test_a_corrupt_results_file_is_refused_and_left_alone(minidata, tmp_path: Path) -> None:
    out = tmp_path / "res.json"
    out.write_text('[{"video_path": "data/videos/talk.mp4", "questions": {"M": "B"')
    before = out.read_bytes()
    with pytest.raises(ResultsFileError, match=r"res\.json: the results file is half-written or corrupt.*refusing"):
        ResultsFile(out, _data(minidata, tmp_path), "M")
    assert out.read_bytes() == before


def test_a_results_file_of_other_data_is_refused(minidata, tmp_path: Path) -> None:
    out = tmp_path / "res.json"
    out.write_text(json.dumps([{"video_path": "x.mp4", "questions": {"question": "q"}}]))
    with pytest.raises(ResultsFileError, match="holds 1 items but .* has 13"):
        ResultsFile(out, _data(minidata, tmp_path), "M")
    items = json.loads(minidata.vqa.read_text())
    items[0]["questions"]["question"] = "Something else"
    out.write_text(json.dumps(items))
    with pytest.raises(ResultsFileError, match="item 0 differs"):
        ResultsFile(out, _data(minidata, tmp_path), "M")
