"""The results file: the published list with answers under ``questions[MODEL_NAME]``, rewritten atomically; the resume point."""
from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from agent.files import atomic_write_bytes
from benchmarks.humansense.loader import Dataset, Item

logger = logging.getLogger(__name__)


class ResultsFileError(RuntimeError):
    """The results file exists but cannot be resumed from; it is left untouched."""


def error_key(model_name: str) -> str:
    """Where a failure is recorded: never under the answer key, so no scorer mistakes it for an answer."""
    return f"{model_name}_error"


def input_key(model_name: str) -> str:
    """Where what the model was given for an answer is recorded (frames and audio, or text only): beside the answer,
    never under its key, so the published scorer still reads the file."""
    return f"{model_name}_input"


def _same_item(a: Any, b: Any) -> bool:
    try:
        return a["video_path"] == b["video_path"] and a["questions"]["question"] == b["questions"]["question"]
    except (KeyError, TypeError):
        return False


class ResultsFile:
    """Holds the whole list in memory; ``save`` writes it (tmp + fsync + rename), coalescing concurrent calls."""

    def __init__(self, path: str | Path, dataset: Dataset, model_name: str) -> None:
        if not model_name.strip():
            raise ValueError("the model name (--name) must not be empty")
        self.path = Path(path)
        self.dataset = dataset
        self.model_name = model_name
        self.error_key = error_key(model_name)
        self.input_key = input_key(model_name)
        self._version = 0
        self._saved = -1
        self._lock = asyncio.Lock()
        if self.path.is_dir():
            raise ResultsFileError(f"{self.path}: is a folder; name the results file (a .json file)")
        if self.path.exists():
            self._merge(self._read_existing())
            done = sum(self.answered(item) for item in dataset.items)
            logger.info("%s: resuming, %d of %d items already answered by %s", self.path, done,
                        len(dataset.items), model_name)

    def _read_existing(self) -> list[Any]:
        try:
            existing = json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            why = "JSON nested too deeply to read" if isinstance(exc, RecursionError) else str(exc)
            raise ResultsFileError(
                f"{self.path}: the results file is half-written or corrupt ({why}); refusing to overwrite it. "
                "Repair or move it away, or pass another --out") from None
        except OSError as exc:
            raise ResultsFileError(f"{self.path}: cannot read the results file ({exc.strerror or exc})") from None
        if not isinstance(existing, list):
            raise ResultsFileError(f"{self.path}: the results file is not a JSON list; refusing to overwrite it")
        return existing

    def _merge(self, existing: list[Any]) -> None:
        """Take over every answer of the existing file (any model) for items matched by index, video_path and question."""
        data = self.dataset.data
        if len(existing) != len(data):
            raise ResultsFileError(
                f"{self.path}: holds {len(existing)} items but {self.dataset.path} has {len(data)}; it belongs to "
                "another data file. Refusing to overwrite it: pass another --out")
        valid = {item.index for item in self.dataset.items}
        for index, old in enumerate(existing):
            if index not in valid:
                data[index] = old
                continue
            if not _same_item(old, data[index]):
                raise ResultsFileError(
                    f"{self.path}: item {index} differs from {self.dataset.path} (video_path or question); it belongs "
                    "to another data file. Refusing to overwrite it: pass another --out")
            data[index]["questions"].update(old["questions"])
            for key, value in old.items():
                data[index].setdefault(key, value)

    def answered(self, item: Item) -> bool:
        """As the published harness decides: a non-empty answer under the model's name."""
        return bool(item.q.get(self.model_name))

    def record_answer(self, item: Item, text: str, given: str) -> None:
        """``text`` as the model wrote it; ``given``: what it was given (see runner.describe_input)."""
        item.q[self.model_name] = text
        item.q[self.input_key] = given
        item.q.pop(self.error_key, None)
        self._version += 1

    def record_error(self, item: Item, message: str) -> None:
        item.q[self.error_key] = message
        self._version += 1

    def _snapshot(self) -> bytes:
        return (json.dumps(self.dataset.data, indent=4, ensure_ascii=False) + "\n").encode("utf-8")

    async def save(self) -> None:
        """Write the list if anything changed since the last write; waiting callers share one write."""
        async with self._lock:
            if self._saved == self._version:
                return
            version = self._version
            data = self._snapshot()
            await asyncio.to_thread(atomic_write_bytes, self.path, data)
            self._saved = version

    def save_now(self) -> None:
        """Synchronous write (for the start of a run, so the file exists and is valid before any answer)."""
        atomic_write_bytes(self.path, self._snapshot())
        self._saved = self._version
