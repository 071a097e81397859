"""`humansense doctor`: what this machine offers (GPU, camera, microphone), whether the configured models resolve,
and whether the brain answers one request in the exact shape the agent sends."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import numpy as np

from agent.config import Config
from dialogue.answer_format import AnswerFormat, JsonAnswerReader
from dialogue.brains import make_brain, text_only
from dialogue.encoding import encode_jpeg
from dialogue.errors import BrainError
from dialogue.llm_brain import LlmBrain
from dialogue.openai_backend import OpenAIGenerator
from dialogue.parser import TagParser
from dialogue.settings import GRAMMAR_ENGINES, BrainSettings, PolicySettings
from dialogue.types import BrainDelta, BrainView, Keyframe, MultimodalPrompt, TextGenerator
from floor import SAMPLE_RATE, error_line, float_to_int16, one_line
from perception.types import Transcript

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
    from perception.transcriber import resolve_whisper_model

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
        names = _served(base_url, api_key_env, 5.0)
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return "fail", f"endpoint {base_url}: not answering ({error_line(exc, typed=True)})"
    status: Status = "ok" if not model or model in names else "warn"
    return status, f"endpoint {base_url}: serves {names}" + ("" if status == "ok" else f" (not {model!r})")


def _served(base_url: str, api_key_env: str, timeout_s: float) -> list[str]:
    """The model names ``GET {base_url}/models`` lists; raises httpx's errors, or ValueError for another shape."""
    import httpx

    r = httpx.get(base_url.rstrip("/") + "/models", headers=_auth(api_key_env), timeout=timeout_s)
    r.raise_for_status()
    return [m.get("id") for m in r.json().get("data", [])]


def _auth(api_key_env: str) -> dict[str, str]:
    key = os.environ.get(api_key_env) if api_key_env else None
    return {"Authorization": f"Bearer {key}"} if key else {}


# ---- the brain, end to end --------------------------------------------------------------------------------------

PROBE_WORDS = "Hello, can you hear me?"
PROBE_TOKENS = 32
"""Room for the decision and the emotion in either format (the answer is read only that far)."""
START_ENGINE = "start the engine (see the header of the config file)"
MESSAGE_CHARS = 300
"""How much of a brain's error message a check line quotes."""
_FORMAT_FIELDS = ("grammar", "structured_outputs", "response_format")
_FORMAT_WORDS = ("grammar", "response_format", "structured_outputs", "json_schema", "guided")
_HTTP_STATUS = re.compile(r"HTTP \d{3}")
_DECISION_TAG = re.compile(r"<\s*decision", re.IGNORECASE)


class _Reading:
    """The answer as the brain reads it (its own parser; JSON read back as tags first), fed as it streams."""

    def __init__(self, answer_format: AnswerFormat | None) -> None:
        self._json = JsonAnswerReader() if answer_format is not None and answer_format.kind == "json" else None
        self._parser = TagParser()
        self._tags = ""
        self.text = ""
        self.ms = 0.0
        self.decision: str | None = None
        self.emotion: str | None = None

    def feed(self, piece: str) -> bool:
        """Read ``piece``; True once the decision and the emotion are both read (all the check needs)."""
        self.text += piece
        tags = self._json.feed(piece) if self._json is not None else piece
        self._tags += tags
        self._take(self._parser.feed(tags))
        return self.decision is not None and self.emotion is not None

    def close(self) -> None:
        self._take(self._parser.close())

    def _take(self, deltas: list[BrainDelta]) -> None:
        for delta in deltas:
            # The parser supplies a decision nobody wrote (respond before bare text, wait at the end): not one read.
            if delta.decision and _DECISION_TAG.search(self._tags):
                self.decision = self.decision or delta.decision
            self.emotion = self.emotion or delta.emotion


def check_brain(cfg: Config) -> Iterator[tuple[Status, str]]:
    """The configured brain, end to end: the engine answers, the model is loaded, and one short request in the
    exact shape the agent sends is answered in the answer format. Every line is one line; a fail says the fix."""
    b = cfg.brain
    if b.backend == "cue":
        yield "ok", "brain: cue (rule-based baseline, no model)"
    elif b.backend == "transformers":
        yield _transformers_model(b.model)
    elif b.backend == "llama":
        yield _llama_brain(cfg)
    else:
        status, line = _brain_endpoint(b)
        yield status, line
        if status != "fail":
            yield _openai_brain(cfg)


def _transformers_model(model: str) -> tuple[Status, str]:
    """Only what is on disk: loading a multimodal model would take the doctor minutes and the GPU's memory."""
    if importlib.util.find_spec("transformers") is None:
        return "fail", "brain: transformers backend needs: pip install 'humansense[gpu]'"
    local = Path(model).expanduser()
    if local.exists():
        missing = [n for n in ("config.json",) if not (local / n).exists()]
        return ("fail" if missing else "ok"), f"brain model: {local}" + (f" (missing {missing})" if missing else "")
    return "warn", f"brain model: {model!r} is not a local path (it would be downloaded from the hub)"


def _brain_endpoint(b: BrainSettings) -> tuple[Status, str]:
    """The engine answers ``/models`` (within brain.timeout_s) and lists brain.model."""
    import httpx

    try:
        names = _served(b.base_url, b.api_key_env, b.timeout_s)
    except httpx.HTTPStatusError as exc:
        code = exc.response.status_code
        fix = (f": set the key in ${b.api_key_env} (brain.api_key_env)" if b.api_key_env
               else ": set brain.api_key_env to the variable holding the key") if code in (401, 403) else ""
        return "fail", f"brain endpoint {b.base_url}: /models answered HTTP {code}{fix}"
    except httpx.HTTPError as exc:
        return "fail", f"brain (openai): not answering at {b.base_url} ({type(exc).__name__}): {START_ENGINE}"
    except (ValueError, AttributeError):
        return "fail", (f"brain endpoint {b.base_url}: /models is not an OpenAI model list "
                        "(brain.base_url is the API root, e.g. http://127.0.0.1:8080/v1)")
    if b.model in names:
        return "ok", f"brain endpoint {b.base_url}: serves {names}"
    return "warn", f"brain endpoint {b.base_url}: serves {names}, not brain.model {b.model!r}: set it to one of them"


def _llama_brain(cfg: Config) -> tuple[Status, str]:
    """Load the GGUF as the agent would (text only, requantized if asked), then answer one request in-process.
    Loading cannot be interrupted; the request is bounded like every other."""
    from dialogue.llama_backend import LlamaGenerator  # the optional llama extra

    settings = text_only(cfg.brain)
    started = time.perf_counter()
    try:
        brain = _llm_brain(settings, cfg.policy)  # loads the model: a bad file is a ValueError naming it
    except ValueError as exc:
        return "fail", f"brain (llama): {one_line(str(exc), MESSAGE_CHARS)}"
    assert isinstance(brain.generator, LlamaGenerator)
    converted = f" (as {settings.requantize})" if settings.requantize != "none" else ""
    loaded = f"{brain.generator.source.name}{converted} loaded in {time.perf_counter() - started:.1f} s"
    form = {None: "free text", "tags": "tag format", "json": "JSON format"}[brain.format and brain.format.kind]
    asked = f"{loaded}; a request in the agent's shape (text only, {form})"
    prompt = _probe_prompt(brain)
    try:
        answer = _answer(brain, prompt)
    except (BrainError, TimeoutError) as exc:
        return "fail", f"brain (llama): {asked} failed: {_stream_failure(exc, settings)}"
    fix = ('set brain.structured = "grammar" (the decoder then keeps to the format)' if brain.format is None
           else "the decoder did not keep to the answer format: report it")
    return _verdict("brain (llama)", asked, answer, fix)


def _openai_brain(cfg: Config) -> tuple[Status, str]:
    """One request, built by the brain itself (string or parts, images, audio, the answer format's field)."""
    settings = dataclasses.replace(cfg.brain, retries=0)  # one try: a retry would only hide what failed
    try:
        brain = _llm_brain(settings, cfg.policy)
        prompt = _probe_prompt(brain)
        assert isinstance(brain.generator, OpenAIGenerator)
        body = brain.generator.build_request(prompt)
    except ValueError as exc:
        return "fail", f"brain (openai): {one_line(str(exc), MESSAGE_CHARS)}"
    asked = f"a request for {settings.model!r} in the agent's shape ({_body_shape(body)})"
    try:
        answer = _answer(brain, prompt)
    except (BrainError, TimeoutError) as exc:
        return "fail", f"brain (openai): {asked} failed: {_openai_failure(exc, prompt, body, settings)}"
    return _verdict("brain (openai)", asked, answer, _unparsed_fix(settings, body))


def _llm_brain(settings: BrainSettings, policy: PolicySettings) -> LlmBrain:
    """The brain exactly as the agent builds it (make_brain: validation, text_only for llama, the answer format)."""
    brain = make_brain(settings, policy)
    assert isinstance(brain, LlmBrain), f"backend {settings.backend} makes an LlmBrain"
    return brain


def _probe_view() -> BrainView:
    """A first turn as the runtime hands it over: the words, their audio and a camera frame. The settings decide,
    as in a session, which of them go out (send_images, send_audio)."""
    t = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    audio = float_to_int16(0.2 * np.sin(2 * np.pi * 220 * t))  # 0.5 s
    frame = Keyframe(t=1.5, jpeg=encode_jpeg(np.full((64, 64, 3), 128, np.uint8)), width=64, height=64)
    return BrainView(t=2.0, transcript=Transcript(PROBE_WORDS, 0.5, 2.0), utterance_audio=audio, keyframes=(frame,),
                     cue_summary="voice: calm; words: neutral")


def _probe_prompt(brain: LlmBrain) -> MultimodalPrompt:
    """The request the brain itself builds for the probe turn (system prompt, media, answer format), kept short:
    room for the reasoning the settings allow, then the decision and the emotion, and never more than the agent's."""
    s = brain.settings
    reasoning = s.reasoning_tokens if s.reasoning == "hidden" else 0
    max_tokens = min(s.max_new_tokens, PROBE_TOKENS + reasoning)
    return dataclasses.replace(brain.request(_probe_view()), max_tokens=max_tokens)


def _answer(brain: LlmBrain, prompt: MultimodalPrompt) -> _Reading:
    """Send ``prompt`` and read the answer until its decision and emotion; raises BrainError or TimeoutError."""
    reading = _Reading(brain.format)
    started = time.perf_counter()
    asyncio.run(_read(brain.generator, prompt, brain.settings.timeout_s, reading))
    reading.ms = (time.perf_counter() - started) * 1000
    return reading


async def _read(generator: TextGenerator, prompt: MultimodalPrompt, gap_s: float, reading: _Reading) -> None:
    """Stream into ``reading`` (closing the generator after). As for the brain, nothing for ``gap_s``
    (brain.timeout_s) is a failure: the check never hangs."""
    stream = generator.stream(prompt)
    try:
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            while True:
                async with asyncio.timeout(gap_s):
                    try:
                        piece = await anext(stream)
                    except StopAsyncIteration:
                        reading.close()
                        return
                if reading.feed(piece):
                    return  # the rest of the answer is not checked: closing the stream stops the engine
    finally:
        await generator.aclose()


def _verdict(label: str, asked: str, answer: _Reading, fix: str) -> tuple[Status, str]:
    missing = [name for name in ("decision", "emotion") if getattr(answer, name) is None]
    took = f"{asked} answered in {answer.ms:.0f} ms"
    if missing:
        return "warn", (f"{label}: {took}, with no {' and no '.join(missing)} in it "
                        f"({one_line(answer.text, 60)!r}): {fix}")
    return "ok", f"{label}: {took} (decision {answer.decision}, emotion {answer.emotion})"


def _body_shape(body: dict[str, Any]) -> str:
    """What the request carries, as the server sees it: string or parts, and the answer format's field."""
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        shape = "string content"
    else:
        shape = " + ".join(p["type"] for p in content) + " parts"
    fields = [f for f in _FORMAT_FIELDS if f in body]
    return f"{shape}, " + (", ".join(fields) if fields else "free text")


def _openai_failure(exc: Exception, prompt: MultimodalPrompt, body: dict[str, Any], settings: BrainSettings) -> str:
    """What went wrong, as the fix: the message's parts, the answer format's field, the model, or the engine."""
    message = one_line(str(exc), MESSAGE_CHARS)
    lower = message.lower()
    empty = "with an empty body" in lower  # the server broke after accepting the request: its template, or the format
    status = _HTTP_STATUS.search(message)
    format_named = any(word in lower for word in _FORMAT_WORDS)
    if isinstance(exc, TimeoutError) or "no data for" in lower or "connecterror" in lower:
        return _stream_failure(exc, settings)
    refused = "HTTP 200 with an empty body" if empty else status.group(0) if status else None
    if not isinstance(body["messages"][-1]["content"], str) and refused and not format_named:
        return _parts_fix(prompt, refused)
    if any(f in body for f in _FORMAT_FIELDS) and (empty or format_named):
        return f"{_format_fix(settings)} ({refused if empty else message})"
    if "model" in lower and any(words in lower for words in ("not found", "does not exist", "no such")):
        return f"the server does not serve {settings.model!r}: set brain.model to a model it lists ({message})"
    return message


def _stream_failure(exc: Exception, settings: BrainSettings) -> str:
    if isinstance(exc, TimeoutError) or "no data for" in str(exc):
        return (f"nothing for {settings.timeout_s:g} s (brain.timeout_s): the engine is stuck, or too slow for "
                "this model on this machine")
    if "ConnectError" in str(exc):
        return f"not answering at {settings.base_url}: {START_ENGINE}"
    return one_line(str(exc), MESSAGE_CHARS)


def _parts_fix(prompt: MultimodalPrompt, how: str) -> str:
    """A text model's server refuses media parts: its chat template breaks (an empty 200), or its schema (4xx/5xx)."""
    sent = [kind for kind, on in (("images", bool(prompt.images)), ("audio", prompt.audio is not None)) if on]
    fix = " and ".join(f"brain.send_{kind} = false" for kind in sent)
    what = " and ".join(kind.removesuffix("s") for kind in sent)
    who = "this server's chat template" if how.endswith("empty body") else "this server"
    return f"{who} rejects {what} parts: set {fix} ({how})"


def _format_fix(settings: BrainSettings) -> str:
    if settings.structured == "json":
        return ('this server does not take a JSON schema (response_format): set brain.engine to what it is, '
                'or brain.structured = "none"')
    return 'this server does not take a GBNF grammar: set brain.engine to what it is, or brain.structured = "json"'


def _unparsed_fix(settings: BrainSettings, body: dict[str, Any]) -> str:
    """Why an answer may lack its decision or emotion: no format asked for, or a field the server ignores."""
    if settings.structured == "none":
        kind = "grammar" if settings.engine in GRAMMAR_ENGINES else "json"
        return f'set brain.structured = "{kind}" so they always parse'
    field = next(f for f in _FORMAT_FIELDS if f in body)
    return f"the server ignored the {field} field: set brain.engine to what it is"


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
    yield from check_brain(cfg)
