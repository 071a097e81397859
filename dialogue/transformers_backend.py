"""Local text generation with a Qwen2.5-Omni thinker through transformers (the `gpu` extra), streamed and cancellable.

Keyframes go in as images and the utterance as a separate audio part
(``use_audio_in_video=False``), never as video. That lets the processor be
built without its video processor, which transformers 5.24 only provides
with torchvision (not installable beside the CPU torch of the embedded stack).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import importlib.util
import io
import logging
import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator

from dialogue.encoding import pcm16
from dialogue.errors import BrainError
from dialogue.memory import estimate_tokens
from dialogue.settings import BrainSettings
from dialogue.types import GenerationStats, MultimodalPrompt
from floor import SAMPLE_RATE, error_line, int16_to_float

logger = logging.getLogger(__name__)

_MISSING_EXTRA = "transformers backend needs: pip install 'humansense[gpu]'"
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json")
_PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")
_ROLES = {"user": "user", "assistant": "assistant", "agent": "assistant", "system": "system"}
_TOKEN_ATTRS = ("image_token", "audio_token", "video_token", "image_token_id", "audio_token_id", "video_token_id",
                "vision_bos_token", "vision_eos_token", "audio_bos_token", "audio_eos_token")


def _import_stack() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise RuntimeError(_MISSING_EXTRA) from exc
    return torch, transformers


@functools.cache
def keyframe_processor_class() -> type:
    """Qwen2_5OmniProcessor without the video processor (see the module docstring)."""
    _, transformers = _import_stack()
    from transformers.processing_utils import ProcessorMixin

    class KeyframeOmniProcessor(transformers.Qwen2_5OmniProcessor):
        def __init__(self, image_processor: Any = None, feature_extractor: Any = None, tokenizer: Any = None,
                     chat_template: str | None = None) -> None:
            ProcessorMixin.__init__(self, image_processor, feature_extractor, tokenizer, chat_template=chat_template)
            for attr in _TOKEN_ATTRS:
                setattr(self, attr, getattr(self.tokenizer, attr))

    return KeyframeOmniProcessor


def load_processor(path: str) -> Any:
    """The Qwen2.5-Omni processor (tokenizer, image processor, Whisper features, chat template) at ``path``."""
    folder = Path(path).expanduser()
    if path.startswith(("/", ".", "~")) and not folder.is_dir():
        raise FileNotFoundError(f"{path}: no such model folder")
    if folder.is_dir():
        names = {p.name for p in folder.iterdir()}
        if not names & set(_TOKENIZER_FILES):
            raise FileNotFoundError(f"{path}: no tokenizer (none of {', '.join(_TOKENIZER_FILES)})")
        if not names & set(_PROCESSOR_FILES):
            raise FileNotFoundError(f"{path}: no image/audio processor config (none of {', '.join(_PROCESSOR_FILES)})")
    try:
        processor = keyframe_processor_class().from_pretrained(path)
    except (OSError, ValueError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RuntimeError(f"cannot load the Qwen2.5-Omni processor from {path}: {first}") from exc
    if not processor.chat_template:
        raise FileNotFoundError(f"{path}: no chat template (chat_template.jinja/.json or in tokenizer_config.json)")
    return processor


class _StopFlag:
    """A StoppingCriteria that ends generation when set, and counts the tokens made."""

    def __init__(self, prompt_len: int) -> None:
        self.prompt_len = prompt_len
        self.event = threading.Event()
        self.new_tokens = 0
        self.tokens_at_stop: int | None = None

    def stop(self) -> None:
        if not self.event.is_set():
            self.tokens_at_stop = self.new_tokens
            self.event.set()

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        self.new_tokens = int(input_ids.shape[1]) - self.prompt_len
        stop = self.event.is_set()
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


class TransformersGenerator:
    """Streams a Qwen2.5-Omni thinker's reply; the model loads on first use (or ``load``/``warm_up``).

    ``stream`` loads in the generator's own thread, once: the event loop never waits
    on weights, and a failed load is remembered (later streams fail at once with its
    message instead of reloading; restart to retry).
    """

    name = "transformers"

    def __init__(self, settings: BrainSettings, model_path: str | None = None) -> None:
        self.settings = settings
        self.model_path = model_path or settings.model
        if not self.model_path:
            raise ValueError("brain.model must name a Qwen2.5-Omni checkpoint (hub id or local path)")
        self.target = self.model_path  # what notes and the circuit breaker name
        self.model: Any = None
        self.processor: Any = None
        self.device = ""
        self.last_stats: GenerationStats | None = None
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()
        self._active: set[_StopFlag] = set()
        self._loading: concurrent.futures.Future[None] | None = None
        self._load_failure: str | None = None

    def load(self) -> None:
        """Load processor and thinker (blocking; idempotent)."""
        with self._load_lock:
            if self.model is not None:
                return
            torch, transformers = _import_stack()
            t0 = time.perf_counter()
            processor = load_processor(self.model_path)
            device = self.settings.device
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}.get(
                self.settings.dtype, torch.bfloat16 if device == "cuda" else torch.float32)
            attn = self.settings.attn_implementation
            if attn == "auto":
                flash = device == "cuda" and importlib.util.find_spec("flash_attn") is not None
                attn = "flash_attention_2" if flash else "sdpa"
            try:
                model = transformers.Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
                    self.model_path, dtype=dtype, attn_implementation=attn, device_map=device)
            except OSError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise RuntimeError(f"cannot load the Qwen2.5-Omni thinker from {self.model_path}: {first}") from exc
            self.processor = processor  # before the model: a set model means a usable tokenizer too
            self.device = device
            self.model = model.eval()
            logger.info("loaded %s on %s (%s, %s) in %.1f s", self.model_path, device, dtype, attn,
                        time.perf_counter() - t0)

    async def _ensure_loaded(self) -> None:
        """Wait for the model without blocking the loop; the first caller starts the one load thread."""
        if self.model is not None:
            return
        if self._load_failure is not None:
            raise BrainError(self._load_failure)
        if self._loading is None:
            future: concurrent.futures.Future[None] = concurrent.futures.Future()
            future.set_running_or_notify_cancel()  # a caller that stops waiting must not cancel the load itself
            self._loading = future
            threading.Thread(target=self._load_into, args=(future,), name="omni-load", daemon=True).start()
        try:
            await asyncio.wrap_future(self._loading)
        except Exception as exc:
            raise BrainError(self._load_failure or error_line(exc, typed=True)) from exc

    def _load_into(self, future: concurrent.futures.Future[None]) -> None:
        try:
            self.load()
        except Exception as exc:  # remembered for every later stream, handed to the callers waiting now
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            self._load_failure = (f"transformers {self.model_path}: load failed ({type(exc).__name__}: {first}); "
                                  "not retried until restart")
            logger.warning("%s", self._load_failure)
            future.set_exception(exc)
        else:
            future.set_result(None)

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's tokenizer; a word estimate until the model has loaded.

        The session calls this on its event loop (the dialogue memory), so it must never load weights.
        """
        if self.processor is None:
            return estimate_tokens(text)
        return len(self.processor.tokenizer(text, add_special_tokens=False)["input_ids"])

    def build_inputs(self, prompt: MultimodalPrompt) -> Any:
        """The processor's tensors for the prompt, on the model's device (blocking)."""
        from PIL import Image

        self.load()
        content: list[dict[str, Any]] = []
        images = [Image.open(io.BytesIO(j)).convert("RGB") for j in prompt.images] if self.settings.send_images else []
        content += [{"type": "image"} for _ in images]
        audio = None
        if self.settings.send_audio and prompt.audio is not None and prompt.audio.size:
            audio = [int16_to_float(pcm16(prompt.audio))]
            content.append({"type": "audio"})
        content.append({"type": "text", "text": prompt.user})
        messages: list[dict[str, Any]] = []
        if prompt.system:
            messages.append({"role": "system", "content": [{"type": "text", "text": prompt.system}]})
        for role, text in prompt.history:
            if role not in _ROLES:
                raise ValueError(f"prompt history role must be one of {sorted(_ROLES)}, got {role!r}")
            messages.append({"role": _ROLES[role], "content": [{"type": "text", "text": text}]})
        messages.append({"role": "user", "content": content})
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = self.processor(text=[text], images=images or None, audio=audio, sampling_rate=SAMPLE_RATE,
                                return_tensors="pt", padding=True)
        return inputs.to(self.model.device)

    async def stream(self, prompt: MultimodalPrompt) -> AsyncIterator[str]:
        """Yield decoded text as the thinker generates it; stopping early stops generation within a token."""
        await self._ensure_loaded()
        from transformers import StoppingCriteriaList, TextIteratorStreamer  # imported by the load: no wait here

        inputs = await asyncio.to_thread(self.build_inputs, prompt)
        streamer = TextIteratorStreamer(self.processor.tokenizer, skip_prompt=True, skip_special_tokens=True)
        flag = _StopFlag(int(inputs["input_ids"].shape[1]))
        failure: list[BaseException] = []
        sample = self.settings.temperature > 0
        kwargs: dict[str, Any] = dict(**inputs, streamer=streamer, max_new_tokens=prompt.max_tokens,
                                      do_sample=sample, use_audio_in_video=False,
                                      stopping_criteria=StoppingCriteriaList([flag]))
        if sample:
            kwargs["temperature"] = self.settings.temperature

        def run() -> None:
            try:
                with self._generate_lock:
                    if not flag.event.is_set():
                        self.model.generate(**kwargs)
            except BaseException as exc:  # handed to the consumer below
                failure.append(exc)
            finally:
                streamer.end()

        t0 = time.perf_counter()
        first: float | None = None
        thread = threading.Thread(target=run, name="omni-generate", daemon=True)
        self._active.add(flag)
        thread.start()
        finished = False
        try:
            while True:
                piece = await asyncio.to_thread(next, streamer, None)
                if piece is None:
                    finished = True
                    break
                if piece:
                    first = first if first is not None else time.perf_counter() - t0
                    yield piece
        finally:
            if not finished:
                flag.stop()
            self._active.discard(flag)
            await asyncio.shield(asyncio.to_thread(thread.join))
            at_stop = flag.tokens_at_stop
            self.last_stats = GenerationStats(flag.new_tokens, first, time.perf_counter() - t0, at_stop is not None,
                                              0 if at_stop is None else flag.new_tokens - at_stop)
        if failure:
            exc = failure[0]
            raise BrainError(f"transformers generation failed: {error_line(exc, typed=True)}") from exc

    def cancel(self) -> None:
        """Stop every generation in progress (their streams end after the current token)."""
        for flag in list(self._active):
            flag.stop()

    async def warm_up(self, prompt: MultimodalPrompt | None = None) -> None:
        """Load the model and run a one-token generation so the first real answer pays no start-up cost."""
        async for _ in self.stream(dataclasses.replace(prompt or MultimodalPrompt(user="Hi"), max_tokens=1)):
            pass

    async def aclose(self) -> None:
        self.cancel()
