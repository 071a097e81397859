"""Perception benchmarks: face analysis fps alone and while ASR and TTS run, with the event loop's lag, and
memory over a long fast replay.

    python -m benchmarks.perception_bench fps [--seconds 10] [--set face.detector=haar ...]
    python -m benchmarks.perception_bench soak MEDIA [--minutes 60] [--out DIR] [--trace-malloc] [--set ...]

``fps`` analyses 640x480 frames of a real face (detection, landmarks, irises, expression: the configured
face pipeline) as fast as it can, first alone, then from a worker thread while two threads keep ASR and TTS
busy (as in a conversation) and an asyncio loop measures its own lag, as the runtime's vision lane does.
``soak`` replays MEDIA in a loop through the whole session (fast pace, all perception on) for the given
media time, and reports RSS after the first loop (warm) and at the end. Both print one JSON object.
``soak --trace-malloc`` also traces the Python heap and prints to stderr the sites and object types that grew per
loop (:mod:`benchmarks.memgrowth`), from the first loop end at which the rolling context has held a full window
(``context.window_s`` of media: what it keeps until then is filling, not creep) to the end of the last loop; it
runs at least two loops past that point, and tracing starts one loop before it. Traced, the replay runs several
times slower, so ``session.lane_timeout_s`` is raised to 120 s (where the config has it) lest model calls count as hung.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import AsyncIterator, Callable

import numpy as np
import psutil

from floor import SAMPLE_RATE, resample


def _timings(ms: list[float], seconds: float) -> dict[str, object]:
    a = np.asarray(ms)
    return {"frames": len(a), "fps": round(len(a) / seconds, 1), "ms_p50": round(float(np.median(a)), 2),
            "ms_p90": round(float(np.percentile(a, 90)), 2)}


async def _camera_on(analyze: object, frame: np.ndarray, seconds: float,
                     fps: float | None) -> tuple[list[float], dict[str, float]]:
    """Frames analysed in a one-thread executor (back to back, or ``fps`` a second as the runtime samples them;
    ``fps`` 0 is the camera off) while the loop measures its own lag."""
    from agent.runtime.metrics import LoopLagMonitor

    loop = asyncio.get_running_loop()
    lag = LoopLagMonitor(interval_ms=5.0)
    lag.start()
    per_frame: list[float] = []
    with ThreadPoolExecutor(1, thread_name_prefix="vision") as lane:
        start = time.perf_counter()
        end, i = start + seconds, 0
        while time.perf_counter() < end:
            if fps == 0:
                await asyncio.sleep(end - time.perf_counter())
                break
            t0 = time.perf_counter()
            await loop.run_in_executor(lane, analyze, frame, i * 0.2)  # type: ignore[arg-type]
            per_frame.append((time.perf_counter() - t0) * 1000)
            i += 1
            if fps:
                await asyncio.sleep(max(0.0, start + i / fps - time.perf_counter()))
    await lag.stop()
    return per_frame, lag.summary()  # p50, p99 and max


def bench_fps(seconds: float, overrides: list[str]) -> dict[str, object]:
    import cv2
    from skimage import data

    from agent.config import load_config
    from perception.asr import make_transcriber
    from perception.vision import FaceAnalyzer
    from speech.settings import TtsSettings
    from speech.tts import make_tts
    from speech.types import Style

    cfg = load_config(None, overrides)
    frame = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (640, 480))
    analyzer = FaceAnalyzer(cfg.vision, cfg.face, cfg.expression)
    alone = []
    end = time.perf_counter() + seconds / 2
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        analyzer.analyze(frame, len(alone) * 0.2)
        alone.append((time.perf_counter() - t0) * 1000)
    asr, tts = make_transcriber(cfg.asr), make_tts(TtsSettings())
    tts.warm_up()
    clip = resample(tts.synthesize("I have been thinking about what you said yesterday about the garden.", Style()),
                    tts.sample_rate, SAMPLE_RATE)
    stop = threading.Event()
    counts = {"asr": 0, "tts": 0}

    def keep_busy(kind: str) -> None:
        while not stop.is_set():
            if kind == "asr":
                asr.transcribe(clip)
            else:
                tts.synthesize("That sounds like a lovely plan for the weekend.", Style())
            counts[kind] += 1

    threads = [threading.Thread(target=keep_busy, args=(k,), daemon=True) for k in ("asr", "tts")]
    for t in threads:
        t.start()
    loaded, flat_out_lag = asyncio.run(_camera_on(analyzer.analyze, frame, seconds, None))
    _, camera_off_lag = asyncio.run(_camera_on(analyzer.analyze, frame, seconds / 2, 0))
    sampled, sampled_lag = asyncio.run(_camera_on(analyzer.analyze, frame, seconds / 2, cfg.vision.sample_fps))
    stop.set()
    for t in threads:
        t.join()
    return {"benchmark": "face analysis alone, then under ASR and TTS load", "frame": "640x480",
            "pipeline": list(analyzer.sources), "alone": _timings(alone, seconds / 2),
            "under_load": _timings(loaded, seconds),
            "loop_lag_ms_under_load": {"camera_off": camera_off_lag,
                                       f"camera_at_{cfg.vision.sample_fps:g}_fps": sampled_lag,
                                       "camera_flat_out": flat_out_lag},
            "asr_calls": counts["asr"], "tts_calls": counts["tts"], "cpus": psutil.cpu_count()}


class LoopSource:
    """A media file decoded once and replayed ``loops`` times back to back on one timeline.

    ``on_loop`` holds the RSS (MB) at the start of each loop; ``boundary(k)`` is called once k loops have been
    handed to the session (k = 0 .. loops)."""

    live = False

    def __init__(self, path: Path, loops: int, boundary: Callable[[int], None] | None = None) -> None:
        from agent.media.sources.media_file import MediaFileSource

        self._inner = MediaFileSource(path)
        self.has_audio, self.has_video = self._inner.has_audio, self._inner.has_video
        self.loops = loops
        self.items: list[object] = []
        self.on_loop: list[float] = []
        self._boundary = boundary

    async def stream(self) -> AsyncIterator[object]:
        from dataclasses import replace

        if not self.items:
            self.items = [item async for item in self._inner.stream()]
        length = max(getattr(i, "t", 0.0) for i in self.items) + 0.1
        for k in range(self.loops):
            self.on_loop.append(psutil.Process().memory_info().rss / 2**20)
            if self._boundary:
                self._boundary(k)
            for item in self.items:
                yield replace(item, t=item.t + k * length)  # type: ignore[type-var]
        if self._boundary:
            self._boundary(self.loops)

    async def aclose(self) -> None:
        await self._inner.aclose()


LANE_TIMEOUT_KEY = "session.lane_timeout_s"
TRACED_LANE_TIMEOUT_S = 120.0


def warm_loops(window_s: float, loop_s: float) -> int:
    """Loops after which the rolling context holds a full window (and caches are warm): growth counts from here."""
    return max(2, math.ceil(window_s / loop_s))


def bench_soak(media: Path, minutes: float, out: Path | None, trace_malloc: bool = False,
               overrides: list[str] | None = None) -> dict[str, object]:
    from agent.config import load_config
    from agent.runtime.lanes import Models
    from agent.cli.outputs import SessionOutputs
    from agent.conversation.session import Session
    from agent.media.sources.media_file import probe
    from benchmarks import memgrowth

    duration = probe(media).duration_s or 30.0
    # traced, model calls run several times slower: a hung-lane limit made for real time would cut them off
    slow = [f"{LANE_TIMEOUT_KEY}={TRACED_LANE_TIMEOUT_S:g}"] if trace_malloc else []
    cfg = load_config(None, slow + (overrides or []))
    from_loop = warm_loops(cfg.context.window_s, duration + 0.1)
    loops = max(from_loop + 2 if trace_malloc else 2, int(minutes * 60 / duration + 0.5))
    models = Models.load(cfg)
    marks: dict[int, memgrowth.Mark] = {}

    def boundary(k: int) -> None:
        if k == from_loop - 1:
            memgrowth.start()  # a loop ahead, so both marks see the same steady state of what was allocated since
        elif k in (from_loop, loops):
            marks[k] = memgrowth.mark()

    source = LoopSource(media, loops, boundary if trace_malloc else None)
    outputs = SessionOutputs(out, None) if out else None
    t0 = time.perf_counter()

    async def run() -> object:
        session = Session(cfg, models, source, fast=True)  # type: ignore[arg-type]
        if outputs:
            session.subscribe(outputs)
        return await session.run()

    result = asyncio.run(run())
    wall = time.perf_counter() - t0
    rss_end = psutil.Process().memory_info().rss / 2**20
    warm = source.on_loop[1]
    metrics = result.metrics  # type: ignore[attr-defined]
    if outputs:
        outputs.close(metrics)
    heap = ({"heap_growth": {"from_loop": from_loop, "to_loop": loops,
                             **memgrowth.report(marks[from_loop], marks[loops], loops - from_loop)}}
            if trace_malloc else {})
    return {"benchmark": "memory over a looped fast replay", "media": str(media), "loops": loops,
            "media_minutes": round(loops * duration / 60, 1), "wall_s": round(wall, 1),
            "turns": result.turns, "rss_mb_after_first_loop": round(warm, 1),  # type: ignore[attr-defined]
            "rss_mb_end": round(rss_end, 1), "rss_growth_mb": round(rss_end - warm, 1),
            "rss_mb_by_loop": [round(x, 1) for x in source.on_loop], "loop_lag_ms": metrics["loop_lag_ms"],
            "video_frames_dropped": metrics["counters"].get("video_frames_dropped", 0), **heap}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("fps")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p = sub.add_parser("soak")
    p.add_argument("media", type=Path)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--out", type=Path)
    p.add_argument("--trace-malloc", action="store_true",
                   help="trace the Python heap and print what grows per loop (slower; adds loops past the warm-up)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = parser.parse_args(argv)
    result = (bench_fps(args.seconds, args.overrides) if args.what == "fps"
              else bench_soak(args.media, args.minutes, args.out, args.trace_malloc, args.overrides))
    print(json.dumps(result, indent=2))
    if "heap_growth" in result:
        from benchmarks.memgrowth import format_report

        print("\n".join(format_report(result["heap_growth"], "loop")), file=sys.stderr)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
