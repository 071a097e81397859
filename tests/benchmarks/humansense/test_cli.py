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


def _eval_many(minidata, tmp_path: Path, n: int) -> tuple[list[str], Path]:
    """An `eval` command over ``n`` copies of one item against an OpenAI-style endpoint (add ``--endpoint``), and
    its results file."""
    items = []
    for i in range(n):
        element = copy.deepcopy(minidata.vqa_items[1])
        element["questions"]["question"] = f"Question {i}"
        items.append(element)
    data = tmp_path / "many.json"
    data.write_text(json.dumps(items))
    res = tmp_path / "res.json"
    cmd = [sys.executable, "-m", "benchmarks.humansense", "eval", "--data", str(data), "--data-root",
           str(minidata.root), "--out", str(res), "--cache-dir", str(tmp_path / "cache"), "--quiet",
           "--backend", "openai", "--model", "tiny", "--name", "omni", "--concurrency", "2"]
    return cmd, res


def test_kill_9_mid_run_loses_nothing_and_resumes(minidata, tmp_path: Path) -> None:
    cmd, res = _eval_many(minidata, tmp_path, 40)
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


# ---- bad input: one line naming the file, exit code 2 ---------------------------------------------------------------

def _one_error_line(capsys) -> str:
    """The error, in one line (after the data file's bad items, which eval reports before it starts)."""
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("skipped item ")]
    assert len(err) == 1 and err[0].startswith("humansense: error: "), err
    return err[0]


def test_score_of_a_folder_names_it(tmp_path: Path, capsys) -> None:
    assert main(["score", str(tmp_path), "--model", "m", "--out", str(tmp_path / "s.json")]) == 2
    assert f"{tmp_path}: is a folder, not a results file" in _one_error_line(capsys)


def test_json_nested_too_deeply_names_the_file(minidata, tmp_path: Path, capsys) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["score", str(deep), "--model", "m", "--out", str(tmp_path / "s.json")]) == 2
    assert f"{deep}: JSON nested too deeply to read" in _one_error_line(capsys)
    assert main(["eval", "--data", str(deep), "--backend", "baseline:first", "--name", "m", "--quiet",
                 "--out", str(tmp_path / "res.json"), "--no-cache"]) == 2
    assert f"{deep}: JSON nested too deeply to read" in _one_error_line(capsys)
    assert _eval(minidata, deep, "--backend", "baseline:first", "--name", "m") == 2      # as the results file
    assert f"{deep}: the results file is half-written or corrupt (JSON nested too deeply" in _one_error_line(capsys)
    assert deep.read_text().startswith("[[[")                                           # left untouched


def test_outputs_that_cannot_be_written_are_refused_first(minidata, tmp_path: Path, capsys) -> None:
    file = tmp_path / "a-file"
    file.write_text("{}")
    assert _eval(minidata, tmp_path, "--backend", "baseline:first", "--name", "m") == 2
    assert f"--out {tmp_path}: is a folder; name a .json file" in _one_error_line(capsys)
    assert _eval(minidata, file / "res.json", "--backend", "baseline:first", "--name", "m") == 2
    assert f"--out {file / 'res.json'}: {file} is a file, not a folder" in _one_error_line(capsys)
    assert main(["score", str(minidata.vqa), "--model", "m", "--out", str(file / "s.json")]) == 2
    assert f"{file} is a file, not a folder" in _one_error_line(capsys)
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"Emo_Strategy": {"total": 2, "correct": 1, "accuracy": 0.5}}))
    assert main(["report", str(scores), "--out", str(file / "report")]) == 2
    assert f"--out {file / 'report'}: {file} is a file, not a folder" in _one_error_line(capsys)


@pytest.mark.parametrize("content, problem", [
    ({"Emo_Strategy": {"total": "ten", "correct": 1, "accuracy": 0.5}}, "Emo_Strategy.total is 'ten', not a number"),
    ({"Mystery": {"total": 2, "correct": 1, "accuracy": [0.5]}}, "Mystery.accuracy is [0.5], not a number"),
    ([1, 2], "expected scores file"),
])
def test_report_errors_name_the_scores_file(tmp_path: Path, capsys, content, problem) -> None:
    scores = tmp_path / "mine.json"
    scores.write_text(json.dumps(content))
    assert main(["report", str(scores), "--out", str(tmp_path / "report")]) == 2
    err = _one_error_line(capsys)
    assert f"{scores}: " in err and problem in err
    assert not (tmp_path / "report" / "report.md").exists()


# ---- stop signals -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_mid_run_exits_with_its_code_keeping_every_answer(minidata, tmp_path: Path, sig, code) -> None:
    cmd, res = _eval_many(minidata, tmp_path, 30)
    with ChatServer(delay_s=0.2) as server:
        proc = subprocess.Popen(cmd + ["--endpoint", server.base_url], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not res.exists() or len(_answered(res, "omni")) < 4):
            time.sleep(0.05)
        proc.send_signal(sig)
        sent = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == code, stderr.decode()[-2000:]
        assert time.monotonic() - sent < 10                      # loose: no answer in flight is waited for
        assert "every answer so far is saved: run the same command to resume" in stderr.decode()
        kept = _answered(res, "omni")
        assert 4 <= len(kept) < 30
        done = subprocess.run(cmd + ["--endpoint", server.base_url], cwd=REPO, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert f"{len(kept)} already answered before this run" in done.stdout
        assert len(_answered(res, "omni")) == 30
