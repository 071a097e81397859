"""Native libraries' own stderr lines, held back while they load: LiteRT prints an INFO line with no switch."""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from typing import Iterator

LITERT_DELEGATE_NOTICE = b"Created TensorFlow Lite XNNPACK delegate"
_LOCK = threading.RLock()  # fd 2 is the process's: one capture at a time (nested ones stack)


@contextlib.contextmanager
def without_lines(marker: bytes) -> Iterator[None]:
    """Run the body with file descriptor 2 captured, then pass on every line written meanwhile except those
    containing ``marker``. C++ writes straight to fd 2, past ``sys.stderr``; what other threads log in the
    meantime arrives late, never lost."""
    with _LOCK, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = b"".join(line for line in captured if marker not in line)
            if kept:
                os.write(2, kept)
