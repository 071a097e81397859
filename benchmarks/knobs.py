"""Whether this checkout's config has a setting, so a benchmark can use a newer knob where it exists."""
from __future__ import annotations

import dataclasses
import typing

from agent.config import Config


def has_setting(key: str) -> bool:
    """``"server.max_sessions"`` → whether :class:`agent.config.Config` has that dotted key."""
    node: typing.Any = Config
    for part in key.split("."):
        if not dataclasses.is_dataclass(node):
            return False
        hints = typing.get_type_hints(node)  # the annotations are strings until resolved
        if part not in hints:
            return False
        node = hints[part]
    return True
