"""Bench outputs: summary.json figures (overall and per set), the PNGs, a self-contained report.html and --compare
ratios."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from agent.runtime.metrics import percentiles
from benchmarks.latency.bench import measure_run, write_outputs
from benchmarks.latency.compare import compare
from benchmarks.latency.render import RenderedScenario
from benchmarks.latency.report import overlap_table, turn_taking_table
from benchmarks.latency.runner import RunResult
from benchmarks.latency.scenario import parse_scenario
from benchmarks.latency.summary import MeasuredRun, summarize


def _runs(constructed, tmp_path: Path) -> list[MeasuredRun]:
    rendered = RenderedScenario(parse_scenario("user: x\npause 1\n", "constructed.txt"), tmp_path / "m.wav",
                                constructed.truth)
    runs = []
    for rep in (1, 2):
        out = tmp_path / f"rep{rep}"
        out.mkdir(parents=True)
        constructed.write(out / "recording.wav")
        (out / "turns.json").write_text(json.dumps(constructed.reports))
        (out / "metrics.json").write_text(json.dumps({"loop_lag_ms": {"p50": 1.0, "p99": 4.0 * rep, "max": 9.0},
                                                      "ready_s": 3.0}))
        result = RunResult("constructed", rep, out, True, "", 0, wall_s=20.0, cpu_s=10.0, rss_peak_mb=300.0 * rep)
        runs.append(measure_run(rendered, result))
    crashed = RunResult("constructed", 3, tmp_path, False, "exit code 1: boom", 1, 1.0, 0.5, 50.0)
    runs.append(measure_run(rendered, crashed))
    unreadable = replace(crashed, ok=True, error="", returncode=0, out_dir=tmp_path / "missing")
    runs.append(measure_run(rendered, unreadable))
    return runs


def _overlap_runs(with_overlaps, tmp_path: Path, traced: bool = True) -> list[MeasuredRun]:
    """One run of the overlaps recording in the tune set, with (or without) its trace.jsonl."""
    rendered = RenderedScenario(parse_scenario("set tune\nuser: x\npause 1\n", "overlaps.txt"), tmp_path / "m.wav",
                                with_overlaps.truth)
    out = tmp_path / "overlaps"
    out.mkdir(parents=True)
    with_overlaps.write(out / "recording.wav")
    (out / "turns.json").write_text(json.dumps(with_overlaps.reports))
    if traced:
        (out / "trace.jsonl").write_text("".join(json.dumps(e) + "\n" for e in with_overlaps.trace))
    return [measure_run(rendered, RunResult("overlaps", 1, out, True, "", 0, 20.0, 10.0, 300.0))]


def _summary(runs: list[MeasuredRun]) -> dict:
    return summarize(runs, suite="quick", pace="fast", repeat=2, config={"policy": {}}, config_path=None,
                     overrides=("a.b=1",))


def test_percentiles() -> None:
    assert percentiles([None, 1.0, 2.0, 3.0, 4.0]) == {"n": 4, "p50": 2.5, "p90": pytest.approx(3.7),
                                                       "p95": pytest.approx(3.85), "max": 4.0}
    assert percentiles([])["p50"] is None


def test_summary_holds_the_measured_numbers_and_skips_failed_runs(constructed, tmp_path: Path) -> None:
    runs = _runs(constructed, tmp_path)
    summary = _summary(runs)
    assert summary["runs"]["total"] == 4 and summary["runs"]["ok"] == 2 and summary["runs"]["failed"] == 2
    errors = [f["error"] for f in summary["runs"]["failures"]]
    assert errors[0] == "exit code 1: boom" and errors[1].startswith("could not measure outputs")
    # five answered turns per run: 500, 600, 800, 1000, 1100 ms
    assert summary["v2v_ms"]["n"] == 10
    assert summary["v2v_ms"]["p50"] == pytest.approx(800, abs=20)
    assert summary["v2v_ms"]["max"] == pytest.approx(1100, abs=20)
    assert summary["endpoint_wait_ms"]["n"] == 4 and summary["endpoint_wait_ms"]["max"] == 400.0
    assert summary["cut_ins"] == 4 and summary["unanswered"] == 2 and summary["barge_ins"] == 4
    assert summary["rss_mb_peak"]["max"] == 600.0 and summary["loop_lag_p99_ms"]["max"] == 8.0
    assert summary["cpu_percent"]["p50"] == 50.0
    assert summary["typical_turn"]["v2v_ms"] == pytest.approx(800, abs=20)
    assert summary["typical_turn"]["stages_ms"]["asr"] == 150.0
    assert summary["machine"]["cores"] >= 1 and summary["machine"]["python"]
    assert summary["overrides"] == ["a.b=1"]


def test_turn_taking_figures_overall_and_per_set(constructed, with_overlaps, tmp_path: Path) -> None:
    runs = _runs(constructed, tmp_path / "report") + _overlap_runs(with_overlaps, tmp_path / "tune")
    summary = _summary(runs)
    assert summary["split"] == "all" and set(summary["per_split"]) == {"tune", "report"}
    tune, report = summary["per_split"]["tune"], summary["per_split"]["report"]
    assert tune["turns"] == 3 and report["turns"] == 12 and summary["turns"] == 15
    assert (tune["words"], tune["lost_words"], tune["extra_turns"]) == (20, 9, 1)
    assert tune["turn_wer"] == pytest.approx((0 + 5 + 4) / 20, abs=1e-4)
    assert tune["asr_wer"] == pytest.approx(5 / 16, abs=1e-4)           # the two reported turns only
    assert report["cut_ins"] == 4 and tune["cut_ins"] == 0 and summary["cut_ins"] == 4
    overlaps = tune["overlaps"]
    assert {k: (v["n"], v["over_agent"], v["stopped"], v["resumed"]) for k, v in overlaps.items()} == {
        "backchannel": (2, 1, 0, 0), "cough": (1, 1, 1, 0), "false_interrupt": (2, 2, 2, 1)}
    assert overlaps["false_interrupt"]["trace_stopped"] == 2 and overlaps["false_interrupt"]["trace_resumed"] == 1
    assert overlaps["backchannel"]["trace_ignored"] == 1
    assert overlaps["cough"]["stop_ms"]["p50"] == pytest.approx(150, abs=20)
    assert report["overlaps"]["cough"]["n"] == 0 and report["overlaps"]["cough"]["trace_stopped"] is None
    assert summary["overlaps"]["cough"]["stopped"] == 1
    assert summary["per_scenario"]["overlaps"]["lost_words"] == 9
    header, rows = turn_taking_table(summary)
    assert header == ("figure", "all", "tune", "report")
    by_figure = {row[0]: row[1:] for row in rows}
    assert by_figure["lost words / words"][1] == "9/20" and by_figure["turn WER"][1] == "45.0 %"
    assert by_figure["cut-ins"] == ("4", "0", "4")
    header, rows = overlap_table(summary)
    by_figure = {row[0]: row[1:] for row in rows}
    assert by_figure["false_interrupt: stopped (trace)"][1] == "2 (2)"
    assert by_figure["false_interrupt: resumed (trace)"][1] == "1 (1)"
    assert by_figure["backchannel: on the agent / n"] == ("1/2", "1/2", "0/0")


def test_without_a_trace_the_cross_check_is_null(with_overlaps, tmp_path: Path) -> None:
    summary = _summary(_overlap_runs(with_overlaps, tmp_path, traced=False))
    overlaps = summary["overlaps"]["false_interrupt"]
    assert overlaps["stopped"] == 2 and overlaps["resumed"] == 1
    assert overlaps["trace_stopped"] is None and overlaps["trace_resumed"] is None


def test_output_files_and_compare_ratios(constructed, tmp_path: Path) -> None:
    runs = _runs(constructed, tmp_path / "runs")
    summary = _summary(runs)
    old = json.loads(json.dumps(summary))
    old["v2v_ms"]["p50"] = summary["v2v_ms"]["p50"] * 2
    old["cut_ins"] = 8
    out = tmp_path / "out"
    rows = write_outputs(out, summary, runs, old)
    for name in ("summary.json", "turns.json", "overlaps.json", "waterfall.png", "distribution.png", "compare.json",
                 "compare.png", "report.html"):
        assert (out / name).stat().st_size > 0, name
    written = json.loads((out / "summary.json").read_text())
    assert written["v2v_ms"] == summary["v2v_ms"] and written["unanswered"] == 2
    assert len(json.loads((out / "turns.json").read_text())) == 12
    by_figure = {r["figure"]: r["ratio"] for r in rows}
    assert "overlaps.false_interrupt.resumed" in by_figure and "lost_words" in by_figure
    assert by_figure["v2v_ms.p50"] == pytest.approx(0.5)
    assert by_figure["v2v_ms.max"] == pytest.approx(1.0)
    assert by_figure["cut_ins"] == pytest.approx(0.5)
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "src=\"http" not in html
    assert f"{summary['v2v_ms']['p50']:.1f}" in html
    assert "Turn-taking by set" in html and "Sounds over the agent" in html


def test_compare_ratio_is_undefined_against_zero_or_missing() -> None:
    rows = {r["figure"]: r for r in compare({"v2v_ms": {"p50": 5.0}, "cut_ins": 1, "unanswered": 0},
                                            {"v2v_ms": {"p50": 0.0}, "cut_ins": 0})}
    assert rows["v2v_ms.p50"]["ratio"] is None and rows["cut_ins"]["ratio"] is None
    assert rows["unanswered"]["old"] is None


def test_the_waterfall_shows_speculative_work_in_parallel_with_the_endpoint_wait():
    from benchmarks.latency.plots import waterfall_parts

    turn = {"v2v_ms": 500.0, "reported_v2v_ms": 440.0,
            "stages_ms": {"endpoint_wait": 400.0, "asr": 350.0, "cues": 10.0, "brain_first_sentence": 1.0,
                          "tts_first_audio": 15.0}}
    parts = {label: (start, ms) for label, start, ms in waterfall_parts(turn)}
    assert parts["VAD hears the pause"] == (0.0, 60.0)
    assert parts["endpoint wait"] == (60.0, 400.0) and parts["ASR"] == (60.0, 350.0)   # both start at the pause
    assert parts["voice + word cues"] == (410.0, 10.0) and parts["TTS 1st sentence"] == (421.0, 15.0)
    assert parts["overhead"] == (460.0, 40.0)   # from the endpoint (the later of the two) to first audio


def test_the_brain_figures_count_parsed_answers_fallbacks_notes_and_growth():
    from benchmarks.latency.runner import RunResult
    from benchmarks.latency.summary import MeasuredRun, brain_figures

    def answer(i: int, **kw: object) -> dict[str, object]:
        return {"trigger": "end_of_turn", "decision": "respond", "agent_emotion": "warm", "fallback": None,
                "notes": [], "acknowledgement": None, "latency_ms": {"brain_first_sentence": 300.0 + 10 * i}, **kw}

    run = RunResult(scenario="s", repetition=1, out_dir=Path("."), ok=True, error="", returncode=0, wall_s=1.0,
                    cpu_s=1.0, rss_peak_mb=1.0)
    answers = (answer(0), answer(1, agent_emotion=None, notes=["repair: no <emotion>"]),
               answer(2, fallback="fallback: down", acknowledgement="I'm so sorry."), answer(3, decision="wait"))
    figures = brain_figures([MeasuredRun(run, answers=answers)])
    assert (figures["answers"], figures["spoken"], figures["parsed"]) == (4, 3, 2)
    assert (figures["fallbacks"], figures["notes"], figures["acknowledged"]) == (1, 1, 1)
    assert figures["first_sentence_ms_per_turn"]["p50"] == pytest.approx(10.0)
