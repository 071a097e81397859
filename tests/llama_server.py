"""A real llama.cpp server for the tests: llama-cpp-python's OpenAI-compatible server with the bundled SmolLM2 GGUF.

Started as a user would start it (``python -m llama_cpp.server``), on a free loopback
port, and stopped at the end; real HTTP, real SSE, the model's own chat template.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx

from dialogue.llama_backend import BUNDLED, resolve_gguf
from tests.dialogue.chat_server import free_port

MODEL_ALIAS = "smollm2"
READY_TIMEOUT_S = 60.0


class LlamaServer:
    """``python -m llama_cpp.server`` serving the bundled GGUF as ``smollm2``; ``base_url`` ends in /v1."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        self._proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(resolve_gguf(BUNDLED)),
                "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048",
                "--n_threads", "2", "--n_threads_batch", "2", "--verbose", "false"]

    def __enter__(self) -> "LlamaServer":
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited ({self._proc.returncode}): {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base_url + "/models", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"llama_cpp.server did not answer within {READY_TIMEOUT_S:g} s")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


def running_server(log: Path) -> Iterator[LlamaServer]:
    with LlamaServer(log) as server:
        yield server
