"""Graceful shutdown: SIGINT and SIGTERM call a callback on the running event loop."""
from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Callable


def stop_on_signals(callback: Callable[[], None]) -> None:
    """Where the platform has no loop signal handlers (Windows, a non-main thread), Ctrl-C stays the default."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, callback)
