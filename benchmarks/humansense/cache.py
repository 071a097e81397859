"""On-disk cache of prepared media, keyed by path, mtime, size and the sampling rule, so re-runs never decode again."""
from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path

import numpy as np

from agent.files import atomic_write_bytes
from benchmarks.humansense.media import Prepared
from benchmarks.humansense.sampling import MAX_FRAMES, MAX_PIXELS, RULE_VERSION

logger = logging.getLogger(__name__)


def cache_key(path: Path, full_frame_number: float | None, fps: float | None, audio: bool) -> str:
    """Changes when the file (path, mtime, size), the item's frame count/fps, the rule or the audio choice changes."""
    st = path.stat()
    parts = [str(path.resolve()), st.st_mtime_ns, st.st_size, full_frame_number, fps, audio,
             RULE_VERSION, MAX_FRAMES, MAX_PIXELS]
    return hashlib.sha1(json.dumps(parts).encode("utf-8")).hexdigest()


class MediaCache:
    """One ``.npz`` file per prepared item under ``root`` (JPEGs concatenated, offsets, audio, metadata)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _file(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> Prepared | None:
        file = self._file(key)
        if not file.is_file():
            return None
        try:
            with np.load(file, allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode("utf-8"))
                blob = z["jpeg"].tobytes()
                offsets = z["offsets"].tolist()
                audio = z["audio"] if meta["has_audio"] else None
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("%s: unreadable cache entry, preparing again (%s)", file, exc)
            return None
        frames = tuple(blob[a:b] for a, b in zip(offsets[:-1], offsets[1:]))
        return Prepared(kind=meta["kind"], frames=frames, frame_times=tuple(meta["frame_times"]),
                        width=meta["width"], height=meta["height"], audio=audio)

    def put(self, key: str, prepared: Prepared) -> None:
        offsets = np.cumsum([0] + [len(f) for f in prepared.frames]).astype(np.int64)
        meta = {"kind": prepared.kind, "frame_times": list(prepared.frame_times), "width": prepared.width,
                "height": prepared.height, "has_audio": prepared.audio is not None}
        buf = io.BytesIO()
        np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
                 jpeg=np.frombuffer(b"".join(prepared.frames), dtype=np.uint8), offsets=offsets,
                 audio=prepared.audio if prepared.audio is not None else np.zeros(0, dtype=np.int16))
        atomic_write_bytes(self._file(key), buf.getvalue())
