"""The `humansense eval`, `score` and `report` subcommands: arguments, progress bar and printed summaries."""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable

from benchmarks.humansense.answerers import BACKENDS
from benchmarks.humansense.prompts import QWEN_OMNI_SYSTEM, VARIANTS
from benchmarks.humansense.scorer import SCORERS
from benchmarks.humansense.tasks import AUDIO_TASKS, COLUMNS
from floor.cache import cache_dir

TASK_NAMES: dict[str, str] = {
    "AR": "action recognition", "ER": "emotion recognition", "GR": "gesture recognition", "PA": "person appearance",
    "AC": "abnormal classification", "CM": "complex motion", "HC": "human counting (re-identification)",
    "TR": "talking-person recognition", "FR1": "familiarity recognition", "FR2": "fraud recognition (audio only)",
    "LD": "lie detection", "RR1": "relation recognition", "RR2": "rapport recognition", "ES": "emotion strategy",
    "PC": "psychological chat (audio only)"}
"""What each of Table 1's task codes stands for (HumanSense paper, PROTOCOL.md)."""

EVAL_DESCRIPTION = """\
Run a model on HumanSense items (HumanSense_VQA.json or HumanSense_AQA.json, as published) and write its raw
answers into the items under questions[NAME], exactly as the published harness does, so the published scorer
reads our results and we read theirs. The results file is rewritten atomically after every answer and is the
resume point: run the same command again to go on. Items whose media cannot be read get
questions[NAME_error] and the run goes on; bad items are reported by index and field and skipped.

Data: the HumanSense benchmark (Qin et al., arXiv 2508.10576), published as antgroup/HumanSense_Benchmark on
the Hugging Face hub (Apache-2.0): HumanSense_VQA.json (3,291 video questions), HumanSense_AQA.json (591
audio-only ones), videos.zip and audios.zip. Download and unzip it yourself (nothing is downloaded here) so that
the items' relative media paths resolve under --data-root.

{tasks}

Variants: plain (published templates), reasoning (the think templates, answers in <answer> tags), asr (the
item's asr_en transcript before the prompt; only RR2 ES TR FR1 RR1), think-pattern (the published "think_omini"
text, named after the omni model it was written for, before the prompt: it asks the model to reason over the
people's characteristics, what is said and the events; only RR2 ES TR FR1 RR1 FR2 PC), agent (our own ASR
transcript and voice/word cues before the prompt).
Yes/no items have no plain template: they are skipped (with the reason) unless the think templates are used.
Frames: 1 fps up to 300 frames, 0.5 below 600, else 0.2, at most 24, resized within 360x420 pixels.
Audio: the soundtrack goes to the model for RR2 ES TR FR1 RR1 FR2 PC (override with --audio-tasks / --no-audio);
audio-only items always get their audio.
Backends: llama runs a GGUF in this process with llama.cpp (--model FILE, or "bundled" for SmolLM2-135M); it reads
text only.
Text-only mode (--backend llama, or --set brain.send_images=false --set brain.send_audio=false for a text model
behind an OpenAI-compatible server): no frames or audio go into any prompt; use --variant agent, whose transcript and
cues are then all the model learns of the media (other variants answer from the question alone, with a warning).
Every item is still answered, and questions[NAME_input] records what the model was given for each answer.""".format(tasks=textwrap.fill(
    "Tasks, by the codes of the paper's Table 1 (--tasks and --audio-tasks take these or the items' task_type "
    "strings): " + ", ".join(f"{code} {name}" for code, name in TASK_NAMES.items()) + ".", width=114))
EVAL_EXAMPLE = ("example: humansense eval --data bench_data/HumanSense_VQA.json --backend baseline:first --name first "
                "--out results/first.json")


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML config whose [brain] section configures the llama/openai/transformers "
                                    "backend (default configs/embedded.toml)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set brain.temperature=0 (repeatable)")


def register_eval(subparsers: Any) -> None:
    p = subparsers.add_parser("eval", help="run a model on HumanSense items (resumable results file)",
                              description=EVAL_DESCRIPTION, epilog=EVAL_EXAMPLE,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, type=Path, metavar="FILE", help="HumanSense_VQA.json or HumanSense_AQA.json")
    p.add_argument("--data-root", type=Path, metavar="DIR",
                   help="folder the items' media paths are relative to (default: the data file's folder)")
    p.add_argument("--backend", required=True, choices=BACKENDS,
                   help="baseline:first / baseline:random (reference floors that ignore the media), llama "
                        "(a GGUF in-process through llama.cpp; text only), openai (an OpenAI-compatible endpoint, "
                        "e.g. vLLM), transformers (local Qwen2.5-Omni thinker)")
    p.add_argument("--model", help="GGUF file or \"bundled\" (llama), served model name (openai) or checkpoint path / "
                                   "hub id (transformers); overrides brain.model")
    p.add_argument("--name", required=True, metavar="MODEL_NAME",
                   help="key the answers are stored under in each item (questions[MODEL_NAME])")
    p.add_argument("--out", required=True, type=Path, metavar="RESULTS.json",
                   help="results file; if it exists, the run resumes from it")
    p.add_argument("--variant", choices=VARIANTS, default="plain", help="prompt variant (default plain)")
    p.add_argument("--think", action="store_true", help="use the think templates with any variant "
                                                        "(implied by --variant reasoning); score with --reasoning")
    p.add_argument("--concurrency", type=int, default=4, metavar="N", help="items in flight at once (default 4)")
    p.add_argument("--prep-threads", type=int, default=2, metavar="N",
                   help="threads decoding media (default 2)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N items (after --tasks)")
    p.add_argument("--tasks", nargs="+", metavar="TASK",
                   help=f"only these tasks: columns ({' '.join(COLUMNS)}) or task_type strings")
    p.add_argument("--endpoint", action="append", default=[], metavar="URL",
                   help="openai base URL, overriding brain.base_url; repeat to spread items round-robin over several")
    p.add_argument("--no-audio", action="store_true", help="give no soundtrack to any item (audio-only items skipped)")
    p.add_argument("--audio-tasks", nargs="+", metavar="TASK",
                   help=f"tasks whose soundtrack is given (default the published {' '.join(sorted(AUDIO_TASKS))})")
    p.add_argument("--seed", type=int, default=0, help="seed of baseline:random (default 0)")
    p.add_argument("--cache-dir", type=Path, default=cache_dir("eval-media"), metavar="DIR",
                   help=f"where prepared frames and audio are cached (default {cache_dir('eval-media')})")
    p.add_argument("--no-cache", action="store_true", help="decode media every time, cache nothing")
    p.add_argument("--max-tokens", type=int, default=512, metavar="N", help="longest answer generated (default 512)")
    p.add_argument("--system", choices=("qwen-omni", "none"), default="qwen-omni",
                   help="system message: the published Qwen2.5-Omni one (default) or none")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_config_args(p)
    p.set_defaults(func=_guarded(cmd_eval))


def register_score(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "score", help="score a results file (published semantics, or robust answer extraction)",
        description="Score the answers in a results file against each item's correct answer, per task. published: the published plain scorer (or with --reasoning the "
                    "reasoning scorer), quirks included, except that it never crashes; robust: reads the intended "
                    "answer more fairly ('The answer is B.', '(B)', option text, '10'); report it beside the "
                    "published number, never instead. Writes the published shape: one object per task_type with "
                    "total, correct, accuracy, plus 'all'.",
        epilog="example: humansense score results/first.json --model first --out scores/first.json")
    p.add_argument("results", type=Path, metavar="RESULTS.json", help="results file written by eval (or the published harness)")
    p.add_argument("--model", required=True, metavar="NAME", help="the model name the answers are stored under")
    p.add_argument("--reasoning", action="store_true", help="answers are in <think>/<answer> tags (the reasoning scorer)")
    p.add_argument("--scorer", choices=SCORERS, default="published", help="published (default) or robust")
    p.add_argument("--out", required=True, type=Path, metavar="SCORES.json", help="where the scores go")
    p.set_defaults(func=_guarded(cmd_score))


def register_report(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "report", help="table and chart of scores beside the paper's Table 1",
        description="Write DIR/report.md, a self-contained DIR/report.html and DIR/report.png: each scores file "
                    "(labelled by its file name) in the paper's column order (AR … PC, Avg = unweighted mean of "
                    "the 13 video tasks) with Table 1's rows beside. Unknown task types are listed, not dropped.",
        epilog="example: humansense report scores/first.json scores/qwen.json --out report/")
    p.add_argument("scores", nargs="+", type=Path, metavar="SCORES.json", help="scores files written by score")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    p.set_defaults(func=_guarded(cmd_report))


def _guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One-line errors for bad input (exit code 2); a stop signal's exit code (130 SIGINT, 143 SIGTERM)."""
    def run(args: argparse.Namespace) -> int:
        from agent.config import ConfigError
        from agent.cli.signals import Interrupted
        from benchmarks.humansense.results import ResultsFileError

        try:
            return fn(args)
        except (ValueError, FileNotFoundError, ResultsFileError, ConfigError) as exc:
            print(f"humansense: error: {exc}", file=sys.stderr)
            return 2
        except Interrupted as exc:
            print(f"humansense: {exc}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            print("humansense: interrupted", file=sys.stderr)
            return 130
    return run


def _check_output_file(path: Path) -> None:
    """``--out`` names a file that can be written: fail now, in one line, not after the work."""
    from agent.cli.outputs import check_folder

    if path.is_dir():
        raise ValueError(f"--out {path}: is a folder; name a .json file")
    check_folder(path.parent, f"--out {path}")


def _progress_bar(quiet: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    TextColumn("{task.fields[tally]}"), console=Console(stderr=True), disable=quiet)


def cmd_eval(args: argparse.Namespace) -> int:
    from agent.config import load_config
    from agent.cli.outputs import check_folder
    from agent.cli.signals import Interrupted, run_until_signalled
    from benchmarks.humansense.answerers import make_answerer, media_taken
    from benchmarks.humansense.cache import MediaCache
    from benchmarks.humansense.loader import load_dataset
    from benchmarks.humansense.results import ResultsFile
    from benchmarks.humansense.runner import EvalOptions, Progress, input_mode, run_eval
    from benchmarks.humansense.tasks import resolve_columns

    if args.concurrency < 1 or args.prep_threads < 1:
        raise ValueError("--concurrency and --prep-threads must be at least 1")
    _check_output_file(args.out)
    if not args.no_cache:
        check_folder(args.cache_dir, f"--cache-dir {args.cache_dir}")
    cfg = load_config(args.config, args.sets)
    dataset = load_dataset(args.data, args.data_root or args.data.parent)
    for problem in dataset.problems:
        print(f"skipped {problem}", file=sys.stderr)
    audio = frozenset() if args.no_audio else (resolve_columns(args.audio_tasks) if args.audio_tasks else AUDIO_TASKS)
    think = True if args.think else None
    send_images, send_audio = media_taken(args.backend, cfg.brain)
    options = EvalOptions(variant=args.variant, think=think, audio_columns=audio,
                          tasks=resolve_columns(args.tasks) if args.tasks else None, limit=args.limit,
                          concurrency=args.concurrency, prep_threads=args.prep_threads,
                          system=QWEN_OMNI_SYSTEM if args.system == "qwen-omni" else "", max_tokens=args.max_tokens,
                          send_images=send_images, send_audio=send_audio)
    if options.text_only and args.variant != "agent":
        print(f"humansense: warning: the model reads text only and sees no media: with --variant {args.variant} it "
              "answers from the prompt text alone (--variant agent adds our transcript and cues)", file=sys.stderr)
    results = ResultsFile(args.out, dataset, args.name)
    perception = None
    if args.variant == "agent":
        from benchmarks.humansense.agent_perception import AgentPerception, FaceSummarizer

        perception = AgentPerception(cfg.asr, cfg.voice, FaceSummarizer(cfg.vision, cfg.face, cfg.expression))
    answerer = make_answerer(args.backend, cfg.brain, model=args.model, endpoints=args.endpoint, seed=args.seed,
                             think=args.variant == "reasoning" or args.think)
    cache = None if args.no_cache else MediaCache(args.cache_dir)
    bar = _progress_bar(args.quiet)
    started = time.perf_counter()

    async def main() -> Any:
        try:
            with bar:
                task = bar.add_task("eval", total=None, rate="", tally="")

                def on_progress(p: Progress) -> None:
                    rate = p.done / max(1e-9, time.perf_counter() - started)
                    bar.update(task, completed=p.done, total=p.total, rate=f"{rate:.2f} items/s",
                               tally=f"ok {p.answered} skip {p.skipped} fail {p.failed}")

                return await run_eval(dataset, answerer, results, options, cache=cache, perception=perception,
                                      on_progress=on_progress)
        finally:
            await answerer.aclose()

    try:
        # No graceful first stop: every answer is saved as it arrives, so a signal cancels at once.
        summary, stops = run_until_signalled(main())
    except Interrupted:
        results.save_now()  # the answers recorded so far, whatever save was cut short
        print(f"{args.out}: stopped; every answer so far is saved: run the same command to resume", file=sys.stderr)
        raise
    print(f"{args.out}: {summary.answered} answered, {summary.skipped} skipped, {summary.failed} failed, "
          f"{summary.already} already answered before this run; {len(dataset.problems)} bad items "
          f"(of {len(dataset.data)}) in {summary.wall_s:.1f} s")
    print(f"  input: {input_mode(options)} (each answer's in questions[{args.name}_input])")
    for reason, n in sorted(summary.skip_reasons.items()):
        print(f"  skipped {n}: {reason}")
    for index, message in summary.errors[:10]:
        print(f"  failed item {index}: {message}")
    if len(summary.errors) > 10:
        print(f"  … {len(summary.errors) - 10} more failures (see questions[{args.name}_error] in the results file)")
    return stops.exit_code


def cmd_score(args: argparse.Namespace) -> int:
    from agent.files import atomic_write_bytes
    from agent.files import read_json
    from benchmarks.humansense.scorer import score

    _check_output_file(args.out)
    data = read_json(args.results, "results file (the published list of items)", list)
    t0 = time.perf_counter()
    stats = score(data, args.model, reasoning=args.reasoning, scorer=args.scorer)
    elapsed = time.perf_counter() - t0
    atomic_write_bytes(args.out, (json.dumps(stats, indent=4) + "\n").encode("utf-8"))
    mode = "reasoning" if args.reasoning else "plain"
    print(f"{args.model}: {args.scorer} scorer ({mode}), {stats['all']['total']} items scored in {elapsed * 1000:.0f} ms")
    for task, entry in stats.items():
        print(f"  {task:<28} {entry['correct']:>8g} / {entry['total']:<6} {entry['accuracy']:.3f}")
    if stats["all"]["total"] == 0:
        print(f"  no answers under {args.model!r} were found", file=sys.stderr)
    print(f"wrote {args.out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from agent.cli.outputs import check_folder
    from benchmarks.humansense.report import write_report

    check_folder(args.out, f"--out {args.out}")
    paths = write_report(args.scores, args.out)
    print(paths["markdown"].read_text(encoding="utf-8"))
    for kind, path in paths.items():
        print(f"wrote {kind}: {path}")
    return 0
