"""The whole flow through the CLI: eval → score → report with both baselines, kill -9 and resume, the transformers backend."""
from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.humansense.__main__ import main
from tests.benchmarks.humansense.hs_data import ChatServer

REPO = Path(__file__).resolve().parents[3]


def _eval(minidata, out: Path, *extra: str) -> int:
    return main(["eval", "--data", str(minidata.vqa), "--data-root", str(minidata.root), "--out", str(out),
                 "--cache-dir", str(out.parent / "cache"), "--quiet", *extra])


def test_eval_score_report_with_both_baselines(minidata, tmp_path: Path, capsys) -> None:
    res = tmp_path / "res.json"
    assert _eval(minidata, res, "--backend", "baseline:first", "--name", "first") == 0
    assert _eval(minidata, res, "--backend", "baseline:random", "--name", "random", "--seed", "3") == 0
    assert _eval(minidata, res, "--backend", "baseline:first", "--name", "first-r", "--variant", "reasoning") == 0
    out = capsys.readouterr().out
    assert "6 answered, 1 skipped, 2 failed" in out and "7 answered, 0 skipped, 2 failed" in out
    assert "skipped 1: yes/no question" in out and "failed item 11" in out

    saved = json.loads(res.read_text())
    assert saved[0]["questions"]["first"] == "A" and saved[0]["questions"]["random"] in "ABCD"
    assert saved[4]["questions"]["first-r"] == "<think>baseline</think><answer>Yes</answer>"
    assert "first" not in saved[4]["questions"]                                  # yes/no skipped in plain mode

    assert main(["score", str(res), "--model", "first", "--out", str(tmp_path / "first.json")]) == 0
    assert main(["score", str(res), "--model", "random", "--out", str(tmp_path / "random.json")]) == 0
    assert main(["score", str(res), "--model", "first-r", "--reasoning", "--out", str(tmp_path / "first-r.json")]) == 0
    first = json.loads((tmp_path / "first.json").read_text())
    # answered by "first": ES(B), AR(C), TR(AC), HC(3), RR2(E) with A, A, A, 0, A; AC is left out by the plain scorer
    # credit: 0 + 0 + 0.5 (A is a subset of AC) + 0 + 0 = 0.5 of 5
    assert first["all"] == {"total": 5, "correct": 0.5, "accuracy": 0.1}
    assert set(first) == {"Emo_Strategy", "Action_Recognition", "Talkingperson_Recognition", "Human_Counting",
                          "Rapport_Recognition", "all"}
    assert all(set(v) == {"total", "correct", "accuracy"} for v in first.values())

    assert main(["report", str(tmp_path / "first.json"), str(tmp_path / "random.json"), str(tmp_path / "first-r.json"),
                 "--out", str(tmp_path / "report")]) == 0
    md = (tmp_path / "report/report.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| model"))
    assert header.split("|")[4:-1] == [f" {c} " for c in
                                       "AR ER GR PA AC CM HC TR FR1 FR2 LD RR1 RR2 ES PC".split()]
    assert "| first | ours |" in md and "| Qwen2.5-Omni-7B | paper (full) | 0.554 |" in md
    html = (tmp_path / "report/report.html").read_text()
    assert "<img alt='bar chart' src='data:image/png;base64," in html and "http" not in html.split("<img")[0]
    assert (tmp_path / "report/report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_openai_backend_through_the_cli(minidata, tmp_path: Path) -> None:
    with ChatServer() as a, ChatServer() as b:
        code = _eval(minidata, tmp_path / "res.json", "--backend", "openai", "--model", "tiny", "--name", "omni",
                     "--endpoint", a.base_url, "--endpoint", b.base_url, "--concurrency", "3",
                     "--set", "brain.retries=0")
        assert code == 0 and len(a.bodies) + len(b.bodies) == 6 and a.bodies and b.bodies
        assert {body["model"] for body in a.bodies} == {"tiny"}


def test_a_corrupt_results_file_stops_eval_with_its_path(minidata, tmp_path: Path, capsys) -> None:
    res = tmp_path / "res.json"
    res.write_text('[{"video_path": ')
    assert _eval(minidata, res, "--backend", "baseline:first", "--name", "first") == 2
    err = capsys.readouterr().err
    assert f"{res}: the results file is half-written or corrupt" in err
    assert res.read_text() == '[{"video_path": '


def _answered(path: Path, name: str) -> dict[int, str]:
    return {i: e["questions"][name] for i, e in enumerate(json.loads(path.read_text())) if e["questions"].get(name)}


def test_kill_9_mid_run_loses_nothing_and_resumes(minidata, tmp_path: Path) -> None:
    items = []
    for i in range(40):
        element = copy.deepcopy(minidata.vqa_items[1])
        element["questions"]["question"] = f"Question {i}"
        items.append(element)
    data = tmp_path / "many.json"
    data.write_text(json.dumps(items))
    res = tmp_path / "res.json"
    cmd = [sys.executable, "-m", "benchmarks.humansense", "eval", "--data", str(data), "--data-root",
           str(minidata.root), "--out", str(res), "--cache-dir", str(tmp_path / "cache"), "--quiet",
           "--backend", "openai", "--model", "tiny", "--name", "omni", "--concurrency", "2"]
    with ChatServer(delay_s=0.05) as server:
        proc = subprocess.Popen(cmd + ["--endpoint", server.base_url], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        seen: dict[int, str] = {}
        while time.monotonic() < deadline and len(seen) < 8:
            if res.exists():
                try:
                    seen = _answered(res, "omni")     # every read must parse: the file is never half-written
                except json.JSONDecodeError as exc:
                    pytest.fail(f"results file unreadable mid-run: {exc}")
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert len(seen) >= 8, proc.stderr.read().decode()[-2000:]
        after_kill = _answered(res, "omni")
        assert len(after_kill) < 40 and seen.items() <= after_kill.items()
        requests_before = len(server.bodies)

        done = subprocess.run(cmd + ["--endpoint", server.base_url], cwd=REPO, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert f"{len(after_kill)} already answered before this run" in done.stdout
        final = _answered(res, "omni")
        assert len(final) == 40 and after_kill.items() <= final.items()
        assert len(server.bodies) - requests_before == 40 - len(after_kill)


def test_transformers_backend_on_a_tiny_thinker(minidata, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.dialogue.tiny_omni import build_tiny_omni

    tiny = build_tiny_omni(tmp_path / "tiny")
    res = tmp_path / "res.json"
    code = main(["eval", "--data", str(minidata.aqa), "--data-root", str(minidata.root), "--out", str(res),
                 "--no-cache", "--quiet", "--backend", "transformers", "--model", str(tiny), "--name", "tiny",
                 "--max-tokens", "4", "--set", "brain.temperature=0.0", "--set", "brain.device=cpu"])
    assert code == 0
    assert set(_answered(res, "tiny")) == {0, 1}                 # FR2 and PC: audio only
    video = tmp_path / "video.json"
    code = main(["eval", "--data", str(minidata.vqa), "--data-root", str(minidata.root), "--out", str(video),
                 "--no-cache", "--quiet", "--backend", "transformers", "--model", str(tiny), "--name", "tiny",
                 "--tasks", "AR", "ES", "--max-tokens", "4", "--set", "brain.temperature=0.0"])
    assert code == 0 and set(_answered(video, "tiny")) == {0, 1}   # ES: frames and audio; AR: frames
