"""Fixtures shared across the test tree: the real llama.cpp server (started once, only by the tests that need it)."""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.llama_server import LlamaServer, running_server


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    yield from running_server(tmp_path_factory.mktemp("llama-server") / "server.log")
