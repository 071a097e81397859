"""Microbenchmarks of the stages alone: VAD per chunk, ASR per call against utterance length (both local backends),
Smart Turn per call, TTS cost, face per frame, brain HTTP overhead.

Each stage is imported lazily; one that is missing or fails is recorded as ``"unavailable: <reason>"``.
The brain is measured against an in-process OpenAI-compatible SSE server that streams tagged text at a
fixed rate, so its overhead is (request -> first parsed text delta) minus the server's first-token delay.
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from agent.runtime.metrics import percentiles
from benchmarks.latency.summary import machine_info, write_json
from floor import SAMPLE_RATE, float_to_int16

logger = logging.getLogger(__name__)

CHUNK = 512
FIRST_TOKEN_DELAY_S = 0.1
TOKEN_INTERVAL_S = 0.02
BRAIN_REQUESTS = 5
SSE_TOKENS: tuple[str, ...] = ("<decision>respond</decision><emotion>calm</emotion><response>That",
                               " sounds", " hard.", " I", " am", " here", " with", " you.", "</response>")
SENTENCE = "I am sorry to hear that, it sounds like a really hard day."
SPEECH_MORE: tuple[str, ...] = ("My sister called this morning and we talked about the garden for an hour.",
                                "Tomorrow I want to try the new bakery near the station before work.")
ASR_SECONDS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
ASR_BACKENDS = {"asr": "whisper-ct2", "asr_faster_whisper": "faster-whisper"}
"""Result key -> ASR backend: the default (window sized to the audio) and faster-whisper (fixed 30 s window)."""
ASR_REPS = 3
EOT_REPS = 10


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _speech(seconds: float) -> np.ndarray:
    """Real speech (the bench's user voice) of SENTENCE then SPEECH_MORE, tiled to ``seconds``, int16 at 16 kHz.

    The sentences differ so that no 10 s stretch repeats itself: a recognizer may rightly read a repeat as a loop.
    """
    from benchmarks.latency.render import hibari_user_voice

    synth = hibari_user_voice()
    wav = np.concatenate([synth(text) for text in (SENTENCE, *SPEECH_MORE)])
    reps = int(np.ceil(seconds * SAMPLE_RATE / len(wav)))
    return float_to_int16(np.tile(wav, reps)[:round(seconds * SAMPLE_RATE)] * (0.7 / np.abs(wav).max()))


def bench_vad(speech: np.ndarray) -> dict[str, Any]:
    from perception.settings import VadSettings
    from perception.vad import Vad

    vad = Vad(VadSettings())
    times = [_timed(lambda i=i: vad.feed(speech[i:i + CHUNK], i / SAMPLE_RATE))
             for i in range(0, len(speech) - CHUNK + 1, CHUNK)]
    return {"ms_per_chunk": percentiles(times), "chunk_ms": CHUNK / SAMPLE_RATE * 1000}


def _utterance(speech: np.ndarray, seconds: float) -> np.ndarray:
    """A prefix of ``speech`` about ``seconds`` long, ended at the quietest 10 ms within 0.25 s of that length
    (a cut inside a word is not how a turn ends)."""
    hop, target = SAMPLE_RATE // 100, round(seconds * SAMPLE_RATE)
    lo, hi = max(hop, target - SAMPLE_RATE // 4), min(len(speech), target + SAMPLE_RATE // 4)
    frames = speech[lo:hi - (hi - lo) % hop].astype(np.float64).reshape(-1, hop)
    return speech[:lo + int(np.argmin((frames ** 2).sum(axis=1))) * hop]


def bench_asr(speech: np.ndarray, backend: str) -> dict[str, Any]:
    """Per-call cost against utterance length (ASR_SECONDS) for one backend, after a warm-up."""
    from perception.asr import make_transcriber
    from perception.settings import AsrSettings

    asr = make_transcriber(AsrSettings(backend=backend))
    asr.warm_up()
    by_length: dict[str, Any] = {}
    for seconds in ASR_SECONDS:
        utterance = _utterance(speech, seconds)
        times = [_timed(lambda: asr.transcribe(utterance, 0.0)) for _ in range(ASR_REPS)]
        by_length[f"{seconds:g}s"] = {"seconds": round(len(utterance) / SAMPLE_RATE, 2), **percentiles(times)}
    out: dict[str, Any] = {"backend": backend, "ms_2s": by_length["2s"]["p50"], "ms_by_length": by_length}
    if hasattr(asr, "retries"):
        out["full_window_retries"] = asr.retries
    return out


def bench_end_of_turn(speech: np.ndarray) -> dict[str, Any]:
    """Smart Turn per call on a 4 s turn (it always scores an 8 s window, so the length does not matter)."""
    from perception.end_of_turn import SmartTurn
    from perception.settings import EndOfTurnSettings

    model = SmartTurn(EndOfTurnSettings())
    model.warm_up()
    turn = _utterance(speech, 4.0)
    features = [_timed(lambda: model.features(turn)) for _ in range(EOT_REPS)]
    calls = [_timed(lambda: model.score(turn)) for _ in range(EOT_REPS)]
    return {"ms_per_call": percentiles(calls), "features_ms": percentiles(features), "threads": model.settings.threads}


def bench_tts() -> dict[str, Any]:
    from speech.settings import TtsSettings
    from speech.tts import make_tts
    from speech.types import Style

    tts = make_tts(TtsSettings())
    tts.warm_up()
    first = [_timed(lambda: tts.synthesize("Hello there.", Style())) for _ in range(5)]
    start = time.perf_counter()
    audio = tts.synthesize(SENTENCE, Style())
    elapsed = time.perf_counter() - start
    return {"first_audio_ms": percentiles(first), "rtf": elapsed / (len(audio) / tts.sample_rate)}


def bench_face() -> dict[str, Any]:
    from perception.settings import ExpressionSettings, FaceSettings, VisionSettings
    from perception.vision import FaceAnalyzer

    try:
        from skimage.data import astronaut
        frame = np.ascontiguousarray(astronaut()[:, :, ::-1])
    except ImportError:
        frame = np.full((480, 640, 3), 128, np.uint8)
    analyzer = FaceAnalyzer(VisionSettings(), FaceSettings(), ExpressionSettings())
    times = [_timed(lambda k=k: analyzer.analyze(frame, k * 0.2)) for k in range(10)]
    return {"ms_per_frame": percentiles(times), "frame": list(frame.shape[:2])}


async def _sse_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Just enough HTTP/1.1 for an OpenAI streaming chat completion (and a model list for any GET)."""
    try:
        await _serve_one(reader, writer)
    except (ConnectionError, asyncio.CancelledError, asyncio.IncompleteReadError):
        pass  # the benchmark hangs up after the first text delta, by design
    finally:
        writer.close()


async def _serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n")
                   if line.lower().startswith("content-length:")), 0)
    if length:
        await reader.readexactly(length)
    if not head.startswith("POST"):
        body = json.dumps({"object": "list", "data": [{"id": "bench", "object": "model"}]}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    else:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                     b"Connection: close\r\n\r\n")
        await asyncio.sleep(FIRST_TOKEN_DELAY_S)
        for k, token in enumerate(SSE_TOKENS):
            if k:
                await asyncio.sleep(TOKEN_INTERVAL_S)
            chunk = {"id": "bench", "object": "chat.completion.chunk", "created": 0, "model": "bench",
                     "choices": [{"index": 0, "delta": {"content": token}, "finish_reason": None}]}
            writer.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await writer.drain()
        writer.write(b"data: [DONE]\n\n")
    await writer.drain()


async def _bench_brain_async() -> dict[str, Any]:
    from dialogue.brains import make_brain
    from dialogue.settings import BrainSettings, PolicySettings
    from dialogue.types import BrainView
    from perception.types import Transcript

    server = await asyncio.start_server(_sse_handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        brain = make_brain(BrainSettings(backend="openai", base_url=f"http://127.0.0.1:{port}/v1", model="bench"),
                           PolicySettings())
        view = BrainView(t=1.0, transcript=Transcript("I had a terrible day.", 0.0, 1.0))
        overheads = []
        for _ in range(BRAIN_REQUESTS):
            start = time.perf_counter()
            async for delta in brain.respond(view):
                if delta.text:
                    overheads.append((time.perf_counter() - start - FIRST_TOKEN_DELAY_S) * 1000)
                    break
        await brain.aclose()
    finally:
        server.close()
        await server.wait_closed()
    return {"overhead_ms": percentiles(overheads), "server_first_token_delay_ms": FIRST_TOKEN_DELAY_S * 1000}


def bench_brain() -> dict[str, Any]:
    return asyncio.run(_bench_brain_async())


def run_components(out: Path, progress: Callable[[str], None]) -> dict[str, Any]:
    """Run every microbenchmark; writes components.json, components.png and report.html into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    speech = functools.cache(lambda: _speech(10.0))
    jobs: dict[str, Callable[[], dict[str, Any]]] = {
        "vad": lambda: bench_vad(speech()),
        **{key: functools.partial(lambda b: bench_asr(speech(), b), backend) for key, backend in ASR_BACKENDS.items()},
        "end_of_turn": lambda: bench_end_of_turn(speech()), "tts": bench_tts, "face": bench_face, "brain": bench_brain,
    }
    for name, job in jobs.items():
        progress(f"component {name}")
        try:
            results[name] = job()
        except Exception as exc:  # noqa: BLE001 - a missing or broken stage must not stop the others
            results[name] = f"unavailable: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            logger.warning("component %s: %s", name, results[name])
    write_json(out / "components.json", {"machine": machine_info(), "components": results})
    _write_components_outputs(out, results)
    return results


def headline_ms(results: dict[str, Any]) -> dict[str, float]:
    """One representative number (ms) per available component, for the chart."""
    picks = {"vad": ("ms_per_chunk", "p50"), **{key: ("ms_2s", None) for key in ASR_BACKENDS},
             "end_of_turn": ("ms_per_call", "p50"), "tts": ("first_audio_ms", "p50"),
             "face": ("ms_per_frame", "p50"), "brain": ("overhead_ms", "p50")}
    out: dict[str, float] = {}
    for name, (key, point) in picks.items():
        value = results.get(name)
        if isinstance(value, dict):
            v = value[key][point] if point else value[key]
            if v is not None:
                out[f"{name} {key}" + (f" {point}" if point else "")] = float(v)
    return out


def _write_components_outputs(out: Path, results: dict[str, Any]) -> None:
    import html

    from benchmarks.latency.plots import bars
    from benchmarks.latency.report import embed_png

    bars(headline_ms(results), "component latency (ms)", out / "components.png")
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td><pre>{html.escape(json.dumps(v, indent=1))}</pre></td></tr>"
                   for k, v in results.items())
    (out / "report.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>humansense components</title></head><body>"
        f"<h1>Component microbenchmarks</h1><table border='1'>{rows}</table>{embed_png(out / 'components.png')}"
        "</body></html>", encoding="utf-8")
