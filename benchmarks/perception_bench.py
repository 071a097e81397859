"""Perception benchmarks: face + expression fps while ASR and TTS run, and memory over a long fast replay.

    python -m benchmarks.perception_bench fps [--seconds 10]
    python -m benchmarks.perception_bench soak MEDIA [--minutes 60] [--out DIR]

``fps`` analyses 640x480 frames of a real face while two threads keep ASR
and TTS busy (as in a conversation), and reports frames per second.
``soak`` replays MEDIA in a loop through the whole session (fast pace, all
perception on) for the given media time, and reports RSS after the first
loop (warm) and at the end. Both print one JSON object.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import AsyncIterator

import numpy as np
import psutil


def bench_fps(seconds: float) -> dict[str, object]:
    import cv2
    from skimage import data

    from perception.asr import make_transcriber
    from perception.settings import AsrSettings, ExpressionSettings, FaceSettings, VisionSettings
    from perception.vision import FaceAnalyzer
    from speech.settings import TtsSettings
    from speech.tts import make_tts
    from speech.types import Style

    frame = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (640, 480))
    analyzer = FaceAnalyzer(VisionSettings(), FaceSettings(), ExpressionSettings())
    asr, tts = make_transcriber(AsrSettings()), make_tts(TtsSettings())
    tts.warm_up()
    speech = tts.synthesize("I have been thinking about what you said yesterday about the garden.", Style())
    from speech.transform import resample

    clip = resample(speech, tts.sample_rate, 16000)
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
    per_frame = []
    t_end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        analyzer.analyze(frame, i * 0.2)
        per_frame.append((time.perf_counter() - t0) * 1000)
        i += 1
    stop.set()
    for t in threads:
        t.join()
    ms = np.asarray(per_frame)
    return {"benchmark": "face+expression under ASR and TTS load", "frame": "640x480", "frames": len(ms),
            "fps": round(len(ms) / seconds, 1), "ms_p50": round(float(np.median(ms)), 1),
            "ms_p90": round(float(np.percentile(ms, 90)), 1), "asr_calls": counts["asr"], "tts_calls": counts["tts"],
            "cpus": psutil.cpu_count()}


class LoopSource:
    """A media file decoded once and replayed ``loops`` times back to back on one timeline."""

    live = False

    def __init__(self, path: Path, loops: int) -> None:
        from agent.sources.media_file import MediaFileSource

        self._inner = MediaFileSource(path)
        self.has_audio, self.has_video = self._inner.has_audio, self._inner.has_video
        self.loops = loops
        self.items: list[object] = []
        self.on_loop: list[float] = []

    async def stream(self) -> AsyncIterator[object]:
        from dataclasses import replace

        if not self.items:
            self.items = [item async for item in self._inner.stream()]
        length = max(getattr(i, "t", 0.0) for i in self.items) + 0.1
        for k in range(self.loops):
            self.on_loop.append(psutil.Process().memory_info().rss / 2**20)
            for item in self.items:
                yield replace(item, t=item.t + k * length)  # type: ignore[type-var]

    async def aclose(self) -> None:
        await self._inner.aclose()


def bench_soak(media: Path, minutes: float, out: Path | None) -> dict[str, object]:
    from agent.config import load_config
    from agent.models import Models
    from agent.outputs import SessionOutputs
    from agent.session import Session
    from agent.sources.media_file import probe

    duration = probe(media).duration_s or 30.0
    loops = max(2, int(minutes * 60 / duration + 0.5))
    cfg = load_config()
    models = Models.load(cfg)
    source = LoopSource(media, loops)
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
    return {"benchmark": "memory over a looped fast replay", "media": str(media), "loops": loops,
            "media_minutes": round(loops * duration / 60, 1), "wall_s": round(wall, 1),
            "turns": result.turns, "rss_mb_after_first_loop": round(warm, 1),  # type: ignore[attr-defined]
            "rss_mb_end": round(rss_end, 1), "rss_growth_mb": round(rss_end - warm, 1),
            "rss_mb_by_loop": [round(x, 1) for x in source.on_loop], "loop_lag_ms": metrics["loop_lag_ms"],
            "video_frames_dropped": metrics["counters"].get("video_frames_dropped", 0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("fps")
    p.add_argument("--seconds", type=float, default=10.0)
    p = sub.add_parser("soak")
    p.add_argument("media", type=Path)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = bench_fps(args.seconds) if args.what == "fps" else bench_soak(args.media, args.minutes, args.out)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
