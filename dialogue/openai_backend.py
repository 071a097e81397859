"""Text generation from any OpenAI-compatible chat-completions endpoint (llama.cpp, vLLM, Ollama, hosted), over SSE.

A message without media is plain string content (the chat templates of text models
cannot join a list of parts); images and audio go as parts only where the settings say
the model takes them. The answer format goes in the form ``brain.engine`` takes: a GBNF
grammar (llama.cpp's ``grammar``, vLLM's ``structured_outputs``) or a JSON schema
(``response_format``).
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import re
import time
from typing import Any, AsyncIterator

import httpx

from dialogue.answer_format import AnswerFormat
from dialogue.encoding import jpeg_data_url, wav_base64
from dialogue.errors import BrainError
from dialogue.memory import estimate_tokens
from dialogue.settings import BrainSettings
from dialogue.types import GenerationStats, MultimodalPrompt
from floor import one_line

logger = logging.getLogger(__name__)

WARM_UP_TOKENS = 4
_MEDIA_COMPLAINT = re.compile(r"content|template|image|audio|part|validation|concatenate|list", re.IGNORECASE)
"""Words in an error that may be about the media parts (an overloaded server's is not)."""
_ROLES = {"user": "user", "assistant": "assistant", "agent": "assistant", "system": "system"}
MESSAGE_CHARS = 200
"""How much of a server's error message a BrainError quotes."""


class _Retryable(Exception):
    """A failure before the first token that another attempt may fix (connection error, 5xx)."""


def _error_text(body: bytes) -> str:
    """The server's own error message: OpenAI's {"error": {"message"}} shape, vLLM's {"message"}, or the raw body."""
    raw = body.decode("utf-8", "replace")
    try:
        obj = json.loads(raw)
    except ValueError:
        return one_line(raw, MESSAGE_CHARS) or "(empty body)"
    if isinstance(obj, dict):
        err = obj.get("error", obj)
        if isinstance(err, dict) and err.get("message"):
            return one_line(str(err["message"]), MESSAGE_CHARS)
        if isinstance(err, str):
            return one_line(err, MESSAGE_CHARS)
    return one_line(raw, MESSAGE_CHARS)


class OpenAIGenerator:
    """Streams the reply text of ``POST {base_url}/chat/completions`` with images and audio as content parts."""

    name = "openai"

    def __init__(self, settings: BrainSettings, base_url: str | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        if not settings.model:
            raise ValueError("brain.model must name the served model for the openai backend")
        self.settings = settings
        self.base_url = (base_url or settings.base_url).rstrip("/")
        self.url = self.base_url + "/chat/completions"
        self.target = self.url  # what notes and the circuit breaker name
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout_s))
        key = os.environ.get(settings.api_key_env, "") if settings.api_key_env else ""
        self._headers = {"Accept": "text/event-stream"}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._last_text = ""  # the previous request's messages and answer: what the server's cache holds
        self._finish: str | None = None  # the last stream's finish_reason
        self._prefetching: asyncio.Task[None] | None = None
        self.last_stats: GenerationStats | None = None

    def build_request(self, prompt: MultimodalPrompt) -> dict[str, Any]:
        """The JSON body: system, history turns, then the user's message (parts only when media go with it)."""
        messages: list[dict[str, Any]] = []
        if prompt.system:
            messages.append({"role": "system", "content": prompt.system})
        for role, text in prompt.history:
            if role not in _ROLES:
                raise ValueError(f"prompt history role must be one of {sorted(_ROLES)}, got {role!r}")
            messages.append({"role": _ROLES[role], "content": text})
        parts: list[dict[str, Any]] = []
        if self.settings.send_images:
            parts += [{"type": "image_url", "image_url": {"url": jpeg_data_url(j)}} for j in prompt.images]
        if self.settings.send_audio and prompt.audio is not None and prompt.audio.size:
            parts.append({"type": "input_audio", "input_audio": {"data": wav_base64(prompt.audio), "format": "wav"}})
        if parts:
            messages.append({"role": "user", "content": [*parts, {"type": "text", "text": prompt.user}]})
        else:
            messages.append({"role": "user", "content": prompt.user})
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "stream": True,
            "max_tokens": prompt.max_tokens,
            "temperature": self.settings.temperature,
        }
        if prompt.answer_format is not None:
            body.update(self.structure(prompt.answer_format))
        return body

    def structure(self, answer_format: AnswerFormat) -> dict[str, Any]:
        """The request fields that constrain ``brain.engine`` to the answer format."""
        engine = self.settings.engine
        if answer_format.kind == "tags":
            if engine == "llama.cpp":
                return {"grammar": answer_format.gbnf()}
            if engine == "vllm":
                return {"structured_outputs": {"grammar": answer_format.gbnf()}}
            raise ValueError(f"brain.engine {engine!r} takes no grammar; set brain.structured = \"json\"")
        schema = answer_format.json_schema()
        if engine == "llama.cpp":  # llama-cpp-python's server rejects the json_schema type
            return {"response_format": {"type": "json_object", "schema": schema}}
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": "answer", "schema": schema, "strict": True}}}

    def prefill_tokens(self, prompt: MultimodalPrompt) -> int:
        """An estimate of the prompt tokens the server must evaluate: those after what it held from the last request."""
        text = _prompt_text(prompt)
        common = 0
        for a, b in zip(self._last_text, text):
            if a != b:
                break
            common += 1
        return estimate_tokens(text[common:])

    async def stream(self, prompt: MultimodalPrompt) -> AsyncIterator[str]:
        """Yield text pieces as the server streams them; raise BrainError on failure.

        Connection errors and 5xx are retried with exponential backoff, but only
        before the first piece: once text is out, a retry would repeat it.
        """
        self._stop_prefetch()
        body = self.build_request(prompt)
        attempts = self.settings.retries + 1
        prefill = self.prefill_tokens(prompt)
        started = time.perf_counter()
        self._finish = None
        pieces_out: list[str] = []
        for attempt in range(attempts):
            pieces = self._attempt(body)
            try:
                first_piece = await pieces.__anext__()
            except StopAsyncIteration:
                return
            except _Retryable as exc:
                if attempt + 1 >= attempts:
                    raise BrainError(f"{self.url}: {exc} (after {attempts} attempts)") from exc
                delay = self.settings.retry_backoff_s * 2 ** attempt
                logger.warning("%s: %s; retrying in %.2f s", self.url, exc, delay)
                await asyncio.sleep(delay)
                continue
            first_s = time.perf_counter() - started
            try:
                pieces_out.append(first_piece)
                yield first_piece
                async for piece in pieces:
                    pieces_out.append(piece)
                    yield piece
            except _Retryable as exc:
                raise BrainError(f"{self.url}: stream broke after text was sent: {exc}") from exc
            finally:
                await pieces.aclose()
                self._last_text = _prompt_text(prompt) + "".join(pieces_out)
                self.last_stats = GenerationStats(new_tokens=len(pieces_out), first_piece_s=first_s,
                                                  total_s=time.perf_counter() - started, prefilled_tokens=prefill,
                                                  prefill_s=first_s, truncated=self._finish == "length")
            return

    async def _attempt(self, body: dict[str, Any]) -> AsyncIterator[str]:
        try:
            async with self._client.stream("POST", self.url, json=body, headers=self._headers) as resp:
                if resp.status_code >= 400:
                    text = _error_text(await resp.aread())
                    text += _parts_hint(body) if _MEDIA_COMPLAINT.search(text) else ""
                    if resp.status_code >= 500:
                        raise _Retryable(f"HTTP {resp.status_code}: {text}")
                    raise BrainError(f"{self.url} rejected the request: HTTP {resp.status_code}: {text}")
                first_line = ""
                saw_data = False
                async for line in resp.aiter_lines():
                    first_line = first_line or line.strip()
                    saw_data = saw_data or line.lstrip().startswith("data:")
                    piece = self._parse_line(line)
                    if piece is None:
                        return
                    if piece:
                        yield piece
                if not saw_data:
                    # An HTML error page or a non-streamed JSON body: say so rather than report an empty reply.
                    kind = resp.headers.get("content-type", "no Content-Type")
                    if not first_line:
                        raise BrainError(f"{self.url}: HTTP {resp.status_code} with an empty body ({kind}): the server "
                                         f"failed after accepting the request, most often its chat template "
                                         f"rejecting it{_parts_hint(body) or _format_hint(body)}")
                    raise BrainError(f"{self.url}: no SSE data in the reply ({kind}): "
                                     f"{one_line(first_line, 80)!r}")
        except httpx.TimeoutException as exc:
            raise BrainError(f"{self.url}: no data for {self.settings.timeout_s:g} s ({type(exc).__name__})") from exc
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            message = one_line(str(exc), MESSAGE_CHARS) or "connection failed"
            raise _Retryable(f"{type(exc).__name__}: {message}") from exc
        except httpx.HTTPError as exc:
            raise BrainError(f"{self.url}: {type(exc).__name__}: {one_line(str(exc), MESSAGE_CHARS)}") from exc

    def _parse_line(self, line: str) -> str | None:
        """The text a ``data:`` line carries ('' for none), or None at ``[DONE]``."""
        line = line.strip()
        if not line.startswith("data:"):
            return ""  # comments, event names, keep-alives and blank separators
        data = line[5:].strip()
        if data == "[DONE]":
            return None
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise BrainError(f"{self.url}: malformed SSE data line: {one_line(data, 80)!r}") from exc
        if not isinstance(obj, dict):
            raise BrainError(f"{self.url}: SSE data is not a JSON object: {one_line(data, 80)!r}")
        if "error" in obj:
            raise BrainError(f"{self.url}: error inside the stream: {_error_text(data.encode())}")
        return self._content(obj, data)

    def _content(self, obj: dict[str, Any], data: str) -> str:
        """``choices[0].delta.content`` of a chunk, checked at each step: a wrong shape is a BrainError, not a crash."""
        def bad(why: str) -> BrainError:
            return BrainError(f"{self.url}: unexpected chunk shape ({why}): {one_line(data, 80)!r}")

        choices = obj.get("choices")
        if choices is None or choices == []:
            return ""  # e.g. the final usage-only chunk
        if not isinstance(choices, list):
            raise bad(f"choices is a {type(choices).__name__}, not a list")
        choice = choices[0]
        if not isinstance(choice, dict):
            raise bad(f"choices[0] is a {type(choice).__name__}, not an object")
        self._finish = choice.get("finish_reason") or self._finish
        delta = choice.get("delta")
        if delta is None:
            return ""  # a chunk that only carries finish_reason
        if not isinstance(delta, dict):
            raise bad(f"delta is a {type(delta).__name__}, not an object")
        content = delta.get("content")
        if content is None:
            return ""  # role-only or reasoning-only deltas
        if not isinstance(content, str):
            raise bad(f"delta.content is a {type(content).__name__}, not a string")
        return content

    async def warm_up(self, prompt: MultimodalPrompt | None = None) -> None:
        """Open the connection, check the endpoint lists models, and send ``prompt`` (the brain's fixed part) for a
        few tokens, so the server holds it and ``last_stats`` times it; a failure is logged, not raised."""
        try:
            resp = await self._client.get(self.base_url + "/models", headers=self._headers)
            if resp.status_code >= 400:
                logger.warning("%s/models answered HTTP %d", self.base_url, resp.status_code)
                return
        except httpx.HTTPError as exc:
            logger.warning("brain endpoint %s unreachable at warm-up: %s", self.base_url, type(exc).__name__)
            return
        if prompt is not None:
            async for _ in self.stream(dataclasses.replace(prompt, max_tokens=WARM_UP_TOKENS, answer_format=None)):
                pass

    def prefetch(self, prompt: MultimodalPrompt, upto: str) -> None:
        """Have a server that keeps its last prompt's tokens (llama.cpp, vLLM, Ollama) evaluate ``prompt`` up to
        ``upto`` (the words heard so far) with a one-token request, while the person speaks; the request that
        follows closes it and evaluates only the rest. Not for other (hosted) servers: each costs a request."""
        if self.settings.engine == "other":
            return
        self._stop_prefetch()
        partial = dataclasses.replace(prompt, user=upto, max_tokens=1, answer_format=None, images=(), audio=None)
        self._prefetching = asyncio.ensure_future(self._prefetch(partial))

    async def _prefetch(self, prompt: MultimodalPrompt) -> None:
        try:
            async with self._client.stream("POST", self.url, json=self.build_request(prompt),
                                           headers=self._headers) as resp:
                async for _ in resp.aiter_bytes():
                    pass
            self._last_text = _prompt_text(prompt)
        except httpx.HTTPError as exc:  # the request that follows reports a real failure
            logger.debug("prefetch failed: %s", exc)

    def _stop_prefetch(self) -> None:
        if self._prefetching is not None and not self._prefetching.done():
            self._prefetching.cancel()  # the connection closes; the server keeps what it evaluated
        self._prefetching = None

    async def aclose(self) -> None:
        self._stop_prefetch()
        if self._own_client:
            await self._client.aclose()


def _prompt_text(prompt: MultimodalPrompt) -> str:
    """The prompt's messages as one text, in order: what a server's prefix cache matches against."""
    return "\n".join([prompt.system, *(f"{role}\n{text}" for role, text in prompt.history), "user\n" + prompt.user])


def _parts_hint(body: dict[str, Any]) -> str:
    """What to do when a request with media parts failed: a text model cannot take them."""
    if isinstance(body["messages"][-1]["content"], list):
        return (" (the message went as content parts, which a text model's template cannot join: set "
                "brain.send_images = false and brain.send_audio = false)")
    return ""


def _format_hint(body: dict[str, Any]) -> str:
    if "grammar" in body or "structured_outputs" in body or "response_format" in body:
        return " or the answer format (try brain.structured = \"none\" to see)"
    return ""
