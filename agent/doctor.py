"""`humansense doctor`: what this machine offers (GPU, camera, microphone) and whether the configured models resolve."""
from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Iterator, Literal

from agent.config import Config

Status = Literal["ok", "warn", "fail"]


def _gpu() -> tuple[Status, str]:
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
            if out:
                return "ok", f"GPU: {out}"
        except (OSError, subprocess.SubprocessError):
            pass
    return "warn", "GPU: none found (the embedded CPU stack works; the transformers brain needs CUDA to be fast)"


def _camera() -> tuple[Status, str]:
    devices = sorted(Path("/dev").glob("video*"))
    if devices:
        return "ok", f"camera: {', '.join(str(d) for d in devices)}"
    return "warn", "camera: none found (replay video files instead; `humansense run` will go on with audio only)"


def _microphone() -> tuple[Status, str]:
    if importlib.util.find_spec("pyaudio") is None:
        return "warn", "microphone: PyAudio not installed (pip install 'humansense[live]')"
    import pyaudio

    pa = pyaudio.PyAudio()
    try:
        inputs = [pa.get_device_info_by_index(i)["name"] for i in range(pa.get_device_count())
                  if pa.get_device_info_by_index(i).get("maxInputChannels", 0) > 0]
    finally:
        pa.terminate()
    return ("ok", f"microphone: {inputs[0]}") if inputs else ("warn", "microphone: no input device found")


def _asr(cfg: Config) -> tuple[Status, str]:
    """The configured recognizer: its engine installed and its model resolvable, or its server answering."""
    a = cfg.asr
    if a.backend == "openai":
        if a.model == "bundled":
            return "fail", 'ASR (openai): asr.model must name the served model, not "bundled"'
        status, line = _endpoint(a.base_url, a.api_key_env, a.model)
        return status, f"ASR (openai): {line}"
    engine = "ctranslate2" if a.backend == "whisper-ct2" else "faster_whisper"
    if importlib.util.find_spec(engine) is None:
        return "fail", f"ASR ({a.backend}): the {engine} package is not installed"
    from perception.asr import resolve_whisper_model

    try:
        path = resolve_whisper_model(a.model)
    except (FileNotFoundError, ValueError, ImportError) as exc:
        return "fail", f"ASR ({a.backend}) model: {exc}"
    on_disk = Path(path).exists()
    return (("ok" if on_disk else "warn"),
            f"ASR ({a.backend}) model: {path}" + ("" if on_disk else " (not on disk: would download)"))


def _endpoint(base_url: str, api_key_env: str, model: str) -> tuple[Status, str]:
    """An OpenAI-compatible server's ``/models``: answering, and serving ``model``."""
    import httpx

    try:
        r = httpx.get(base_url.rstrip("/") + "/models", headers=_auth(api_key_env), timeout=5)
        r.raise_for_status()
        names = [m.get("id") for m in r.json().get("data", [])]
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return "fail", f"endpoint {base_url}: not answering ({type(exc).__name__}: {exc})"
    status: Status = "ok" if not model or model in names else "warn"
    return status, f"endpoint {base_url}: serves {names}" + ("" if status == "ok" else f" (not {model!r})")


def _auth(api_key_env: str) -> dict[str, str]:
    key = os.environ.get(api_key_env) if api_key_env else None
    return {"Authorization": f"Bearer {key}"} if key else {}


def _brain(cfg: Config) -> Iterator[tuple[Status, str]]:
    b = cfg.brain
    if b.backend == "cue":
        yield "ok", "brain: cue (rule-based baseline, no model)"
        return
    if b.backend == "transformers":
        if importlib.util.find_spec("transformers") is None:
            yield "fail", "brain: transformers backend needs: pip install 'humansense[gpu]'"
            return
        local = Path(b.model).expanduser()
        if local.exists():
            missing = [n for n in ("config.json",) if not (local / n).exists()]
            yield ("fail" if missing else "ok"), f"brain model: {local}" + (f" (missing {missing})" if missing else "")
            return
        yield "warn", f"brain model: {b.model!r} is not a local path (it would be downloaded from the hub)"
        return
    status, line = _endpoint(b.base_url, b.api_key_env, b.model)
    yield status, f"brain {line}"
    if status != "fail":
        yield _brain_stream(cfg)


def _brain_stream(cfg: Config) -> tuple[Status, str]:
    """A short streamed chat request read by the brain's own parser: an endpoint that lists models but streams
    another shape (or nothing) would otherwise only show as a silent agent."""
    import asyncio
    import contextlib

    from dialogue.errors import BrainError
    from dialogue.openai_backend import OpenAIGenerator
    from dialogue.types import MultimodalPrompt

    settings = dataclasses.replace(cfg.brain, retries=0, timeout_s=min(cfg.brain.timeout_s, 10.0))

    async def first_text() -> str:
        generator = OpenAIGenerator(settings)
        try:
            async with contextlib.aclosing(generator.stream(MultimodalPrompt(user="Say OK.", max_tokens=8))) as text:
                async for piece in text:
                    return piece
            return ""
        finally:
            await generator.aclose()

    try:
        text = asyncio.run(first_text())
    except (BrainError, ValueError) as exc:
        return "warn", f"brain streaming: {' '.join(str(exc).split())}"
    if not text:
        return "warn", (f"brain streaming: {settings.base_url} streamed no text for a short request "
                        "(a reasoning model may have spent it thinking)")
    return "ok", f"brain streaming: {settings.base_url} streams chat completions"


def _onnx_models(cfg: Config) -> Iterator[tuple[Status, str]]:
    """The user-given ONNX face and expression models: found, loadable, and of the expected shape."""
    if not cfg.vision.enabled:
        return
    if cfg.face.detector == "onnx":
        from perception.face import OnnxFaceDetector

        yield _loads("face detector", f"face.onnx_path {cfg.face.onnx_path}", lambda: OnnxFaceDetector(cfg.face))
    if cfg.expression.backend == "onnx":
        from perception.expression import OnnxExpressionClassifier

        yield _loads("expression", f"expression.onnx_path {cfg.expression.onnx_path}",
                     lambda: OnnxExpressionClassifier(cfg.expression))


def _loads(label: str, what: str, load: Callable[[], object]) -> tuple[Status, str]:
    try:
        load()
    except (OSError, ValueError) as exc:
        return "fail", f"{label}: {exc}"
    return "ok", f"{label}: {what}"


def _face(cfg: Config) -> tuple[Status, str]:
    if not cfg.vision.enabled:
        return "ok", "face: vision off"
    from perception.vision import FaceAnalyzer

    try:
        analyzer = FaceAnalyzer(cfg.vision, cfg.face, cfg.expression)
    except (OSError, RuntimeError, ValueError) as exc:
        return "fail", f"face models: {exc}"
    return "ok", "face models: " + "; ".join(analyzer.sources)


def run_doctor(cfg: Config) -> Iterator[tuple[Status, str]]:
    yield _gpu()
    yield _camera()
    yield _microphone()
    yield _asr(cfg)
    onnx = list(_onnx_models(cfg))
    yield from onnx
    if all(status != "fail" for status, _ in onnx):  # else the analyzer would only repeat the first failure
        yield _face(cfg)
    yield "ok", f"TTS: {cfg.tts.backend} (voice {cfg.tts.voice})"
    yield from _brain(cfg)
