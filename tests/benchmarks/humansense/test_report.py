"""The report: paper column order, tolerant task mapping, unknown task types listed, the paper's Avg rule."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.humansense.report import average, markdown, paper_rows, row_from_scores, write_report
from benchmarks.humansense.tasks import AVG_COLUMNS, COLUMNS, column_of


@pytest.mark.parametrize("task_type, column", [
    ("Emo_Strategy", "ES"), ("emo strategy", "ES"), ("EMO-STRATEGY", "ES"), ("Talkingperson_Recognition", "TR"),
    ("Familiarity_Recognition", "FR1"), ("Fraud_Recognition", "FR2"), ("Relation_Recognition", "RR1"),
    ("Rapport_Recognition", "RR2"), ("Psychological_Chat", "PC"), ("Abnormal_Recognition", "AC"),
    ("Lie_Detection", "LD"), ("fr1", "FR1"), ("Mystery_Task", None),
])
def test_task_types_map_to_columns_tolerantly(task_type: str, column: str | None) -> None:
    assert column_of(task_type) == column


def test_avg_is_the_unweighted_mean_of_the_13_video_tasks() -> None:
    scores = {f"{c}": {"total": 10, "correct": i, "accuracy": i / 10} for i, c in enumerate(AVG_COLUMNS)}
    scores["Fraud_Recognition"] = {"total": 100, "correct": 100, "accuracy": 1.0}      # FR2: left out of Avg
    scores["Psychological_Chat"] = {"total": 100, "correct": 100, "accuracy": 1.0}     # PC: left out of Avg
    row = row_from_scores("m", scores)
    assert row.avg == pytest.approx(sum(range(13)) / 10 / 13) and row.avg_complete   # (0+…+12)/10/13 = 0.6
    partial = row_from_scores("p", {"Emo_Strategy": {"total": 4, "correct": 1, "accuracy": 0.25}})
    assert partial.avg == 0.25 and not partial.avg_complete


def test_types_on_one_column_are_pooled_and_unknown_types_listed() -> None:
    row = row_from_scores("m", {"Emo_Strategy": {"total": 3, "correct": 3, "accuracy": 1.0},
                                "emo strategy": {"total": 1, "correct": 0, "accuracy": 0.0},
                                "Mystery_Task": {"total": 2, "correct": 1, "accuracy": 0.5},
                                "all": {"total": 6, "correct": 4, "accuracy": 4 / 6}})
    assert row.values["ES"] == 0.75 and row.unknown == {"Mystery_Task": 0.5}
    md = markdown([row], [])
    assert "Unknown task types in m" in md and "- `Mystery_Task`: 0.500" in md


def test_paper_rows_follow_the_avg_rule_except_two() -> None:
    rows = [r for r in paper_rows() if r.avg is not None]
    assert len(rows) == 14
    off = {r.model for r in rows if abs(average(r.values)[0] - r.avg) > 0.001}
    assert off == {"Ola-7B", "IXC2.5-OmniLive-7B"}     # as PROTOCOL.md notes


def test_write_report_makes_three_files(tmp_path: Path) -> None:
    (tmp_path / "mine.json").write_text(json.dumps({"Emo_Strategy": {"total": 2, "correct": 1, "accuracy": 0.5},
                                                    "all": {"total": 2, "correct": 1, "accuracy": 0.5}}))
    paths = write_report([tmp_path / "mine.json"], tmp_path / "out")
    md = paths["markdown"].read_text()
    assert md.splitlines()[2] == "| model | source | Avg | " + " | ".join(COLUMNS) + " |"
    assert "| mine | ours | 0.500* |" in md
    assert paths["png"].stat().st_size > 1000 and "<table>" in paths["html"].read_text()
