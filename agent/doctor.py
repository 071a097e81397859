"""`humansense doctor`: what this machine offers (GPU, camera, microphone) and whether the configured models resolve."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, Literal

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
    from perception.asr import resolve_whisper_model

    try:
        path = resolve_whisper_model(cfg.asr.model)
    except (FileNotFoundError, ValueError, ImportError) as exc:
        return "fail", f"ASR model: {exc}"
    on_disk = Path(path).exists()
    return ("ok" if on_disk else "warn"), f"ASR model: {path}" + ("" if on_disk else " (not on disk: would download)")


def _brain(cfg: Config) -> tuple[Status, str]:
    b = cfg.brain
    if b.backend == "cue":
        return "ok", "brain: cue (rule-based baseline, no model)"
    if b.backend == "transformers":
        if importlib.util.find_spec("transformers") is None:
            return "fail", "brain: transformers backend needs: pip install 'humansense[gpu]'"
        local = Path(b.model).expanduser()
        if local.exists():
            missing = [n for n in ("config.json",) if not (local / n).exists()]
            return ("fail" if missing else "ok"), f"brain model: {local}" + (f" (missing {missing})" if missing else "")
        return "warn", f"brain model: {b.model!r} is not a local path (it would be downloaded from the hub)"
    import httpx

    headers = {"Authorization": f"Bearer {os.environ[b.api_key_env]}"} if os.environ.get(b.api_key_env) else {}
    try:
        r = httpx.get(b.base_url.rstrip("/") + "/models", headers=headers, timeout=5)
        r.raise_for_status()
        names = [m.get("id") for m in r.json().get("data", [])]
    except (httpx.HTTPError, ValueError) as exc:
        return "fail", f"brain endpoint {b.base_url}: not answering ({type(exc).__name__}: {exc})"
    status: Status = "ok" if not b.model or b.model in names else "warn"
    return status, f"brain endpoint {b.base_url}: serves {names}" + ("" if status == "ok" else f" (not {b.model!r})")


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
    yield _face(cfg)
    yield "ok", f"TTS: {cfg.tts.backend} (voice {cfg.tts.voice})"
    yield _brain(cfg)
