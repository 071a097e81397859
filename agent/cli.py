"""The `humansense` command line: replay, run, demo, doctor, serve, plus benchmark commands plugged in by entry points."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from agent.config import ConfigError, load_config
from agent.signals import stop_on_signals

PROCESS_START = time.perf_counter()
console = Console(highlight=False, stderr=False)
logger = logging.getLogger("humansense")


class CliError(Exception):
    """A one-line, user-facing failure; main() prints it and exits non-zero."""


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML config (default: configs/embedded.toml)")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                        help="override one setting, e.g. --set vad.end_of_turn_silence_ms=500 (repeatable)")


def _add_output_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--record", metavar="WAV", help="write the conversation as a stereo WAV (left: user, right: agent)")
    parser.add_argument("--out", metavar="DIR", help="write trace.jsonl, turns.json, metrics.json and report.html here")
    parser.add_argument("--quiet", action="store_true", help="no live conversation view")


async def _run_session(cfg: Any, source: Any, args: argparse.Namespace, *, fast: bool, live: bool) -> dict[str, Any]:
    from agent.models import Models
    from agent.outputs import SessionOutputs
    from agent.session import Session
    from agent.sinks.terminal import TerminalView

    t0 = time.perf_counter()
    try:
        models = Models.load(cfg)
        await models.warm_up_brain()
    except (FileNotFoundError, ValueError, RuntimeError, ImportError) as exc:
        raise CliError(f"loading models failed: {exc}") from None
    outputs = SessionOutputs(args.out, args.record, cfg.output.trace_audio_events)
    player = None
    if live:
        from agent.sinks.players import DevicePlayer

        try:
            player = DevicePlayer(source.clock, cfg.tts.output_device, outputs.recorder)
        except (RuntimeError, OSError) as exc:
            raise CliError(str(exc)) from None
    session = Session(cfg, models, source, clock=getattr(source, "clock", None), player=player,
                      recorder=outputs.recorder, fast=fast)
    session.subscribe(outputs)
    if cfg.output.terminal and not args.quiet:
        session.subscribe(TerminalView())
    session.metrics.ready_s = time.perf_counter() - PROCESS_START
    session.metrics.load_s["total"] = time.perf_counter() - t0
    stop_on_signals(session.request_stop)
    try:
        result = await session.run()
    except BaseException:
        outputs.abort()
        raise
    finally:
        await models.aclose()
        if player is not None:
            player.close()
    written = outputs.close(result.metrics)
    return {"result": result, "written": written, "turns": outputs.turns}


def _print_summary(info: dict[str, Any]) -> None:
    result = info["result"]
    metrics = result.metrics
    turns = info["turns"]
    answered = sum(1 for t in turns if t.get("agent_text"))
    v2v = metrics.get("stage_ms", {}).get("voice_to_voice", {})
    lag = metrics.get("loop_lag_ms", {})
    console.print(f"\n[bold]{len(turns)} turns[/bold], {answered} answered · "
                  f"voice-to-voice p50 {v2v.get('p50', float('nan')):.0f} ms · loop lag p99 {lag.get('p99', float('nan')):.1f} ms · "
                  f"peak RSS {metrics.get('rss_mb_peak')} MB")
    for path in info["written"]:
        console.print(f"  wrote {path}")


def cmd_replay(args: argparse.Namespace) -> int:
    from agent.sources import SourceError
    from agent.sources.media_file import MediaFileSource

    cfg = load_config(args.config, args.set)
    try:
        source = MediaFileSource(args.media, video=cfg.vision.enabled)
    except SourceError as exc:
        raise CliError(str(exc)) from None
    if not source.has_audio:
        console.print(f"[yellow]warning[/yellow]: {args.media} has no audio stream; only the video is analysed")
    info = asyncio.run(_run_session(cfg, source, args, fast=args.pace == "fast", live=False))
    _print_summary(info)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from agent.clock import WallClock
    from agent.sources import SourceError
    from agent.sources.camera import CameraSource, MergedSource
    from agent.sources.microphone import MicrophoneSource

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
    info = asyncio.run(_run_session(cfg, source, args, fast=False, live=True))
    _print_summary(info)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from agent.demo import build_demo_media
    from agent.sources.media_file import MediaFileSource

    cfg = load_config(args.config, args.set)
    cache = Path(args.cache)
    console.print("[bold]HumanSense demo[/bold]: building (once, cached) a short synthetic conversation …")
    media = build_demo_media(cache)
    out = Path(args.out)
    args.out = str(out)
    args.record = str(out / "conversation.wav")
    console.print(f"replaying {media} through the whole loop ({args.pace}) …\n")
    info = asyncio.run(_run_session(cfg, MediaFileSource(media, video=cfg.vision.enabled), args,
                                    fast=args.pace == "fast", live=False))
    _print_summary(info)
    console.print(f"\nlisten to [bold]{args.record}[/bold] (left: user, right: agent); open [bold]{out / 'report.html'}[/bold]")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from agent.doctor import run_doctor

    cfg = load_config(args.config, args.set)
    ok = True
    for status, line in run_doctor(cfg):
        colour = {"ok": "green", "warn": "yellow", "fail": "red"}[status]
        console.print(f"[{colour}]{status:>4}[/{colour}]  {line}")
        ok = ok and status != "fail"
    return 0 if ok else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from agent.server import serve

    cfg = load_config(args.config, args.set)
    return asyncio.run(serve(cfg, host=args.host, port=args.port, token=args.token, console=console))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="humansense",
        description="A real-time empathetic conversational agent: it hears, sees and answers out loud, offline. "
                    "Also scores agents on the HumanSense benchmark and measures latency.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("replay", help="replay a media file through the agent (as if the person were live)",
                       description="Replay a media file (any container/codec FFmpeg reads) through the whole loop: "
                                   "VAD, ASR, cues, brain, TTS. Audio is resampled to 16 kHz mono.")
    p.add_argument("media", help="audio or video file")
    p.add_argument("--pace", choices=("realtime", "fast"), default="realtime",
                   help="realtime: media plays at wall-clock speed (latency figures are real); fast: as fast as "
                        "compute allows, compute takes no media time (repeatable timelines)")
    add_config_args(p)
    _add_output_args(p)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("run", help="talk to the agent live (microphone, optional camera; needs the `live` extra)",
                       description="Live conversation through the default microphone and speakers.")
    p.add_argument("--mic", metavar="DEVICE", help="input device index or name part (default: system default)")
    p.add_argument("--camera", metavar="INDEX|PATH|URL", help="also watch a camera (OpenCV index, file or stream URL)")
    add_config_args(p)
    _add_output_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="build a synthetic conversation once and replay it end to end",
                       description="Synthesizes a short conversation (user lines by TTS with natural pauses, a video "
                                   "track), caches it, and replays it through the whole loop.")
    p.add_argument("--out", default="out/demo", metavar="DIR", help="output folder (default: out/demo)")
    p.add_argument("--cache", default=".cache/demo", metavar="DIR", help="where the generated media is cached")
    p.add_argument("--pace", choices=("realtime", "fast"), default="realtime", help="replay pace (default realtime)")
    p.add_argument("--quiet", action="store_true", help="no live conversation view")
    add_config_args(p)
    p.set_defaults(func=cmd_demo, record=None)

    p = sub.add_parser("doctor", help="check GPU, camera, microphone, models on disk and the configured endpoint")
    add_config_args(p)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("serve", help="serve the browser companion page and its WebSocket endpoint")
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
    except KeyboardInterrupt:
        print("humansense: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
