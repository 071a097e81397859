"""Stopping on SIGINT/SIGTERM: the first signal asks the run to stop, a second stops it at once; the exit code
says which.

Exit codes follow the shell's convention, 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), so a
script can tell an interrupted run from a finished one whatever outputs it left.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import weakref
from typing import Any, Callable, Coroutine, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_installed: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, "StopSignals"] = weakref.WeakKeyDictionary()


class Interrupted(Exception):
    """A stop signal cancelled the run before it could finish cleanly; ``exit_code`` is the process's."""

    def __init__(self, sig: signal.Signals) -> None:
        super().__init__(f"interrupted by {sig.name}")
        self.signal = sig

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signal)


class StopSignals:
    """The stop signals one event loop received: ``signal`` is the first (None: none yet).

    The first signal calls the ``on_stop`` callback (a graceful stop); without one, or at a second signal,
    the task that installed the handlers is cancelled at once.
    """

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self._callback: Callable[[], None] | None = None
        self._task: asyncio.Task[Any] | None = None

    @property
    def exit_code(self) -> int:
        """0 without a signal, else 128 + its number."""
        return 0 if self.signal is None else 128 + int(self.signal)

    def install(self) -> None:
        """Handle the stop signals on the running loop; the current task is the one a second signal cancels.

        Where the platform has no loop signal handlers (Windows, a non-main thread), Ctrl-C stays the default.
        """
        loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._received, sig)
        _installed[loop] = self

    def on_stop(self, callback: Callable[[], None]) -> None:
        """What the first signal does from now on; called at once if a signal already came."""
        self._callback = callback
        if self.signal is not None:
            callback()

    def _received(self, sig: signal.Signals) -> None:
        if self.signal is None:
            self.signal = sig
            if self._callback is not None:
                logger.info("%s: stopping (a second signal stops at once)", sig.name)
                self._callback()
                return
        logger.info("%s: stopping at once", sig.name)
        if self._task is not None and not self._task.done():
            self._task.cancel()


def stop_on_signals(callback: Callable[[], None] | None = None) -> StopSignals:
    """The running loop's :class:`StopSignals` (installed now if need be), with ``callback`` for the first signal."""
    stops = _installed.get(asyncio.get_running_loop())
    if stops is None:
        stops = StopSignals()
        stops.install()
    if callback is not None:
        stops.on_stop(callback)
    return stops


def run_until_signalled(main: Coroutine[Any, Any, T]) -> tuple[T, StopSignals]:
    """``asyncio.run(main)`` with the stop signals handled from the start; returns its value and the signals seen.

    Raises :class:`Interrupted` when a signal cancelled ``main``.
    """
    stops = StopSignals()

    async def guarded() -> T:
        stops.install()
        return await main

    try:
        return asyncio.run(guarded()), stops
    except asyncio.CancelledError:
        if stops.signal is None:
            raise
        raise Interrupted(stops.signal) from None
