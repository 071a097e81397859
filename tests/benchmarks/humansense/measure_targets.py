"""Measures the offline mode's three targets: item preparation, concurrency scaling, scoring speed.

Run: ``python -m tests.benchmarks.humansense.measure_targets [--workdir DIR]`` (about a minute on 2 cores;
most of it encodes the 60 s test clip, which is kept in DIR for the next run).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from benchmarks.humansense.answerers import make_answerer
from benchmarks.humansense.cache import MediaCache, cache_key
from benchmarks.humansense.loader import load_dataset
from benchmarks.humansense.media import prepare
from benchmarks.humansense.results import ResultsFile
from benchmarks.humansense.runner import EvalOptions, run_eval
from benchmarks.humansense.scorer import score
from dialogue.settings import BrainSettings
from tests.benchmarks.humansense.hs_data import OPTS4, SINGLE, ChatServer, item


def clip_60s(path: Path) -> Path:
    """60 s, 30 fps, 640x480 H.264 (x264 defaults: keyframe every 250 frames, B-frames) + 44.1 kHz AAC tone."""
    if path.exists():
        return path
    from skimage import data

    img = cv2.resize(data.astronaut(), (960, 720))
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = 640, 480, "yuv420p"
        aus = c.add_stream("aac", rate=44100)
        for i in range(1800):
            x, y = int(160 + 150 * np.sin(i / 90)), int(120 + 100 * np.cos(i / 70))
            for p in vs.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img[y:y + 480, x:x + 640]), format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        wave = (0.2 * np.sin(2 * np.pi * 220 * np.arange(44100 * 60) / 44100)).astype(np.float32)
        for k in range(0, len(wave), 1024):
            f = av.AudioFrame.from_ndarray(wave[None, k:k + 1024].copy(), format="fltp", layout="mono")
            f.sample_rate, f.pts = 44100, k
            for p in aus.encode(f):
                c.mux(p)
        for p in aus.encode():
            c.mux(p)
    return path


def _median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure_preparation(work: Path) -> dict[str, float]:
    clip = clip_60s(work / "clip60.mp4")
    cache = MediaCache(work / "cache")
    out = {
        "frames_only_s": _median_s(lambda: prepare(clip, 1800, 30, audio=False), 5),
        "frames_and_audio_s": _median_s(lambda: prepare(clip, 1800, 30, audio=True), 5),
    }
    cache.put(cache_key(clip, 1800, 30, True), prepare(clip, 1800, 30, audio=True))
    out["cached_ms"] = 1000 * _median_s(lambda: cache.get(cache_key(clip, 1800, 30, True)), 20)
    return out


def measure_concurrency(work: Path, clip: Path, n_items: int = 64, delay_s: float = 0.25) -> dict[str, float]:
    items = [item(clip.name, "Action_Recognition", SINGLE, "B", OPTS4, question=f"Question {i}",
                  full_frame_number=1800, fps=30) for i in range(n_items)]
    data = work / "items.json"
    data.write_text(json.dumps(items))
    rates: dict[str, float] = {}
    with ChatServer(delay_s=delay_s) as server:
        for n in (1, 16):
            ds = load_dataset(data, clip.parent)
            out = work / f"res{n}.json"
            out.unlink(missing_ok=True)
            res = ResultsFile(out, ds, "m")
            answerer = make_answerer("openai", BrainSettings(model="m"), endpoints=[server.base_url])

            async def go() -> float:
                t = time.perf_counter()
                try:
                    await run_eval(ds, answerer, res, EvalOptions(concurrency=n), cache=MediaCache(work / "cache"))
                finally:
                    await answerer.aclose()
                return time.perf_counter() - t
            wall = asyncio.run(go())
            rates[f"items_per_s_at_{n}"] = n_items / wall
        rates["peak_in_flight"] = server.peak
    rates["speedup"] = rates["items_per_s_at_16"] / rates["items_per_s_at_1"]
    return rates


def measure_scoring() -> dict[str, float]:
    styles = [("B", SINGLE, "The answer is B."), ("AC", "Multiple-choice question (select one or more answer choices)", "A, C"),
              ("3", "Question and answer (Arabic numerals)", "<answer>3</answer>"), ("No", "Judgment question (Yes or No)", "No.")]
    data = []
    for i in range(4000):
        answer, pattern, response = styles[i % 4]
        element = item("v.mp4", "Emo_Strategy", pattern, answer, OPTS4)
        element["questions"]["m"] = response
        data.append(element)
    return {f"{name}_ms": 1000 * _median_s(lambda kw=kw: score(data, "m", **kw), 5)
            for name, kw in (("published_plain", {}), ("published_reasoning", {"reasoning": True}),
                             ("robust", {"scorer": "robust"}))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "humansense-targets")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print("preparation (60 s, 30 fps, 640x480, 12 frames):", measure_preparation(args.workdir))
    print("concurrency (fixed-delay endpoint):", measure_concurrency(args.workdir, clip_60s(args.workdir / "clip60.mp4")))
    print("scoring 4,000 items:", measure_scoring())


if __name__ == "__main__":
    main()
