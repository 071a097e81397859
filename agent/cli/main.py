"""The `humansense` command line: replay, run, demo, doctor, serve, plus benchmark commands plugged in by entry points."""
from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
import time
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any, Callable, NoReturn

from rich.console import Console
from rich.markup import escape

from agent.config import ConfigError, load_config
from floor import error_line
from floor.cache import cache_dir
from agent.cli.signals import Interrupted, StopSignals, run_until_signalled, stop_on_signals

PROCESS_START = time.perf_counter()
console = Console(highlight=False, stderr=False, soft_wrap=True)
logger = logging.getLogger("humansense")


class CliError(Exception):
    """A one-line, user-facing failure; main() prints it and exits non-zero."""


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors read like every other failure: one ``humansense: error:`` line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"humansense: error: {message} (see: {self.prog} --help)\n")


def _version() -> str:
    try:
        return f"humansense {version('humansense')}"
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "humansense (not installed: no version)"


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML config (default: configs/embedded.toml)")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                        help="override one setting, e.g. --set vad.end_of_turn_silence_ms=500 (repeatable)")


def _add_output_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--record", metavar="WAV", help="write the conversation as a stereo WAV (left: user, right: agent)")
    parser.add_argument("--out", metavar="DIR", help="write trace.jsonl, turns.json, metrics.json and report.html here")
    parser.add_argument("--quiet", action="store_true", help="no live conversation view")


MODEL_KEYS = ("asr.backend", "asr.model", "end_of_turn.model", "tts.backend", "tts.voice", "tts.model",
              "brain.backend", "brain.model")
"""The settings that choose what ``Models.load`` loads."""


def _setting(cfg: Any, key: str) -> Any:
    section, name = key.split(".")
    return getattr(getattr(cfg, section, None), name, None)


def _suspects(cfg: Any, message: str) -> str:
    """The model settings that differ from the defaults, when ``message`` names none of them: a load failure
    whose engine did not say which file it was reading is most likely in a model the user chose."""
    base = load_config(None, [])
    changed = {key: _setting(cfg, key) for key in MODEL_KEYS if _setting(cfg, key) != _setting(base, key)}
    if not changed or any(str(value) in message for value in changed.values()):
        return ""
    return " (models set away from the defaults: " + ", ".join(f"{k}={v}" for k, v in changed.items()) + ")"


async def _load_models(cfg: Any) -> Any:
    """Every model loaded and validated once, off the loop; any failure is one line naming the setting or path."""
    from agent.runtime.lanes import Models

    try:
        models = await asyncio.to_thread(Models.load, cfg)
    except Exception as exc:  # loaders raise their own types (onnxruntime, CTranslate2, the hub client)
        message = error_line(exc)
        raise CliError(f"loading models failed: {message}{_suspects(cfg, message)}") from None
    try:
        await models.warm_up_brain()
    except Exception as exc:
        await models.aclose()
        raise CliError(f"brain ({cfg.brain.backend}) failed to start: {error_line(exc)}") from None
    return models


def _check_outputs(args: argparse.Namespace) -> None:
    from agent.cli.outputs import OutputError, check_outputs

    try:
        check_outputs(args.out, args.record)
    except OutputError as exc:
        raise CliError(str(exc)) from None


async def _run_session(cfg: Any, source: Any, args: argparse.Namespace, *, fast: bool, live: bool) -> dict[str, Any]:
    from agent.cli.outputs import SessionOutputs
    from agent.conversation.session import Session
    from agent.media.sinks.terminal import TerminalView

    _check_outputs(args)  # before the models load: nobody should wait to learn of a typo
    t0 = time.perf_counter()
    models = await _load_models(cfg)
    player = None
    try:
        if live:
            from agent.media.sinks.players import DevicePlayer

            try:
                player = DevicePlayer(source.clock, cfg.tts.output_device)
            except (RuntimeError, OSError, ValueError) as exc:
                raise CliError(str(exc)) from None
        try:
            outputs = SessionOutputs(args.out, args.record, cfg.output.trace_audio_events, cfg.output.report)
        except OSError as exc:
            raise CliError(f"cannot write the outputs: {error_line(exc)}") from None
        try:
            if player is not None:
                player.recorder = outputs.recorder
            session = Session(cfg, models, source, clock=getattr(source, "clock", None), player=player,
                              recorder=outputs.recorder, fast=fast)
        except BaseException as exc:
            outputs.discard()  # nothing was recorded: leave no .partial files behind
            if isinstance(exc, (ValueError, OSError, RuntimeError)):
                raise CliError(f"cannot start the session: {error_line(exc)}") from None
            raise
        session.subscribe(outputs)
        if cfg.output.terminal and not args.quiet:
            session.subscribe(TerminalView())
        session.metrics.ready_s = time.perf_counter() - PROCESS_START
        session.metrics.load_s["total"] = time.perf_counter() - t0
        stops = stop_on_signals()
        stops.on_stop(lambda: _stopping(stops, session))
        try:
            result = await session.run()
        except BaseException:
            for partial in outputs.abort():
                console.print(f"  kept {escape(str(partial))} (incomplete)")
            raise
    finally:
        if models.hung_calls:
            _ABANDONED.append(f"{models.hung_calls} hung model calls")
        await models.aclose()
        if player is not None:
            player.close()
    written = outputs.close(result.metrics)
    return {"result": result, "written": written, "turns": outputs.turns}


def _stopping(stops: StopSignals, session: Any) -> None:
    name = stops.signal.name if stops.signal is not None else "signal"
    console.print(f"\n[yellow]stopping[/yellow] ({name}); send it again to stop at once, "
                  "leaving the outputs as .partial files")
    session.request_stop()


def _print_summary(info: dict[str, Any]) -> None:
    result = info["result"]
    metrics = result.metrics
    turns = info["turns"]
    answered = sum(1 for t in turns if t.get("agent_text"))
    v2v = metrics.get("stage_ms", {}).get("voice_to_voice", {}).get("p50")
    lag = metrics.get("loop_lag_ms", {}).get("p99")
    parts = [f"[bold]{len(turns)} turns[/bold], {answered} answered",
             f"voice-to-voice p50 {v2v:.0f} ms" if _finite(v2v) else "no answers"]
    if _finite(lag):
        parts.append(f"loop lag p99 {lag:.1f} ms")
    if metrics.get("rss_mb_peak") is not None:
        parts.append(f"peak RSS {metrics['rss_mb_peak']} MB")
    console.print("\n" + " · ".join(parts))
    for path in info["written"]:
        console.print(f"  wrote {escape(str(path))}")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _exit_code(info: dict[str, Any], stops: StopSignals) -> int:
    """A signal's code whatever the outputs (scripts must see an interrupted run); else 1 for a failed session."""
    if stops.signal is not None:
        print(f"humansense: stopped by {stops.signal.name}", file=sys.stderr)
        return stops.exit_code
    failure = info["result"].failure
    if failure:
        print(f"humansense: error: the session ended early: {failure}", file=sys.stderr)
        return 1
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from agent.media.sources import SourceError
    from agent.media.sources.media_file import MediaFileSource

    cfg = load_config(args.config, args.set)
    try:
        source = MediaFileSource(args.media, video=cfg.vision.enabled)
    except SourceError as exc:
        raise CliError(str(exc)) from None
    if not source.has_audio:
        console.print(f"[yellow]warning[/yellow]: {escape(args.media)} has no audio stream; only the video is analysed")
    info, stops = run_until_signalled(_run_session(cfg, source, args, fast=args.pace == "fast", live=False))
    _print_summary(info)
    return _exit_code(info, stops)


def cmd_run(args: argparse.Namespace) -> int:
    from agent.runtime.clock import WallClock
    from agent.media.sources import SourceError
    from agent.media.sources.camera import CameraSource, MergedSource
    from agent.media.sources.microphone import MicrophoneSource

    cfg = load_config(args.config, args.set)
    clock = WallClock()
    try:
        source: Any = MicrophoneSource(clock, args.mic or "")
        if args.camera is not None:
            source = MergedSource(source, CameraSource(clock, args.camera, fps=max(cfg.vision.sample_fps, 5.0)))
            source.clock = clock
    except SourceError as exc:
        raise CliError(str(exc)) from None
    console.print("[bold]listening[/bold] (Ctrl-C to stop) — input during the agent's speech counts as barge-in "
                  f"only after {cfg.session.live_echo_guard_ms} ms of sustained speech (echo guard); use headphones for best results")
    info, stops = run_until_signalled(_run_session(cfg, source, args, fast=False, live=True))
    _print_summary(info)
    return _exit_code(info, stops)


def cmd_demo(args: argparse.Namespace) -> int:
    from agent.demo.conversation import build_demo_media
    from agent.cli.outputs import OutputError, check_folder
    from agent.media.sources.media_file import MediaFileSource

    cfg = load_config(args.config, args.set)
    out = Path(args.out)
    args.out = str(out)
    args.record = str(out / "conversation.wav")
    _check_outputs(args)
    try:
        check_folder(args.cache, f"--cache {args.cache}")
    except OutputError as exc:
        raise CliError(str(exc)) from None
    console.print("[bold]HumanSense demo[/bold]: building (once, cached) a short synthetic conversation …")
    media = build_demo_media(Path(args.cache))
    console.print(f"replaying {escape(str(media))} through the whole loop ({args.pace}) …\n")
    info, stops = run_until_signalled(_run_session(cfg, MediaFileSource(media, video=cfg.vision.enabled), args,
                                                   fast=args.pace == "fast", live=False))
    _print_summary(info)
    console.print(f"\nlisten to [bold]{escape(args.record)}[/bold] (left: user, right: agent); "
                  f"open [bold]{escape(str(out / 'report.html'))}[/bold]")
    return _exit_code(info, stops)


def cmd_doctor(args: argparse.Namespace) -> int:
    from agent.cli.doctor import run_doctor

    cfg = load_config(args.config, args.set)
    ok = True
    for status, line in run_doctor(cfg):
        colour = {"ok": "green", "warn": "yellow", "fail": "red"}[status]
        console.print(f"[{colour}]{status:>4}[/{colour}]  {escape(line)}")
        ok = ok and status != "fail"
    return 0 if ok else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from agent.cli.serve import serve
    from agent.server.listen import ListenError, listen

    cfg = load_config(args.config, args.set)
    try:
        listener = listen(args.host, args.port)  # before the models load: nobody should wait to learn the port is taken
    except ListenError as exc:
        raise CliError(str(exc)) from None
    code, stops = run_until_signalled(serve(cfg, args.host, listener, args.token, console, _load_models))
    if stops.signal is not None:
        print(f"humansense: stopped by {stops.signal.name}", file=sys.stderr)
        return stops.exit_code
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="humansense",
        description="A real-time empathetic conversational agent: it hears, sees and answers out loud, offline. "
                    "Also scores agents on the HumanSense benchmark and measures latency.",
        epilog="example: humansense demo (then `humansense COMMAND --help` for any command)")
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("replay", help="replay a media file through the agent (as if the person were live)",
                       description="Replay a media file (any container/codec FFmpeg reads) through the whole loop: "
                                   "VAD, ASR, cues, brain, TTS. Audio is resampled to 16 kHz mono.",
                       epilog="example: humansense replay talk.mp4 --pace fast --out out/talk")
    p.add_argument("media", help="audio or video file")
    p.add_argument("--pace", choices=("realtime", "fast"), default="realtime",
                   help="realtime: media plays at wall-clock speed (latency figures are real); fast: as fast as "
                        "compute allows, compute takes no media time (repeatable timelines)")
    add_config_args(p)
    _add_output_args(p)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("run", help="talk to the agent live (microphone, optional camera; needs the `live` extra)",
                       description="Talk with the agent live through the default microphone and speakers, "
                                   "optionally watched by a camera.",
                       epilog="example: humansense run --camera 0 --record out/live.wav")
    p.add_argument("--mic", metavar="DEVICE", help="input device index or name part (default: system default)")
    p.add_argument("--camera", metavar="INDEX|PATH|URL", help="also watch a camera (OpenCV index, file or stream URL)")
    add_config_args(p)
    _add_output_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="build a synthetic conversation once and replay it end to end",
                       description="Synthesizes a short conversation (user lines by TTS with natural pauses, a video "
                                   "track), caches it, and replays it through the whole loop.",
                       epilog="example: humansense demo --pace fast --out out/demo")
    p.add_argument("--out", default="out/demo", metavar="DIR", help="output folder (default: out/demo)")
    p.add_argument("--cache", default=str(cache_dir("demo")), metavar="DIR",
                   help=f"where the generated media is cached (default {cache_dir('demo')})")
    p.add_argument("--pace", choices=("realtime", "fast"), default="realtime", help="replay pace (default realtime)")
    p.add_argument("--quiet", action="store_true", help="no live conversation view")
    add_config_args(p)
    p.set_defaults(func=cmd_demo, record=None)

    p = sub.add_parser("doctor", help="check GPU, camera, microphone, models on disk and the configured endpoint",
                       description="Check that this machine can run the configured agent: GPU, camera, microphone, "
                                   "every model on disk and the brain's endpoint, one line each.",
                       epilog="example: humansense doctor --config configs/llama-local.toml")
    add_config_args(p)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("serve", help="talk to the agent in a browser: serve the companion page on this machine",
                       description="Serve the companion page, where you talk to the agent in a browser with your "
                                   "microphone and camera; one line is printed per connection and per answer.",
                       epilog="example: humansense serve --port 8765, then open http://127.0.0.1:8765/ (docs/companion.md)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default loopback; others require a token)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--token", help="access token for non-loopback clients (default: generated and printed)")
    add_config_args(p)
    p.set_defaults(func=cmd_serve)

    for ep in entry_points(group="humansense.commands"):
        try:
            register: Callable[[Any], None] = ep.load()
        except ImportError as exc:
            logging.getLogger(__name__).debug("command %s unavailable: %s", ep.name, exc)
            continue
        register(sub)
    return parser


_ABANDONED: list[str] = []
"""Model calls this process gave up on (hung, or cut short by a second signal): exit must not wait for them."""


def entry() -> None:
    """The console script: :func:`main`, then an exit that does not wait for abandoned model threads."""
    code = main()
    if _ABANDONED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (ConfigError, CliError) as exc:
        print(f"humansense: error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(f"humansense: {exc}", file=sys.stderr)
        _ABANDONED.append(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print("humansense: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    entry()
