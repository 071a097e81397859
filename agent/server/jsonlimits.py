"""Untrusted JSON text: parsed only within a nesting depth, every failure one ValueError with a one-line message.

``json.loads`` recurses once per nesting level, so ``"[" * 10000`` raises
RecursionError (or worse, in a thread with a small stack); an integer of more
than 4300 digits raises a ValueError that is not a JSONDecodeError; and NaN or
Infinity, which JSON lacks, are accepted. :func:`loads` measures the depth
first, without recursing, and turns each of those into ValueError.
"""
from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

# A string literal, possibly unterminated (it then runs to the end, as json.loads would read it). The unrolled
# form matches in linear time on any input.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting outside string literals, in time linear in the text."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads(text: str, max_depth: int) -> Any:
    """``json.loads`` for text from the network; raises ValueError with a one-line reason."""
    # Fewer openers than the limit cannot nest deeper than it, so the scan is skipped for ordinary messages.
    if text.count("[") + text.count("{") > max_depth:
        depth = nesting_depth(text)
        if depth > max_depth:
            raise ValueError(f"JSON nested {depth} levels deep; the limit is {max_depth}")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at {exc.pos})") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None
    except ValueError as exc:  # an integer over sys.get_int_max_str_digits(), or NaN/Infinity
        raise ValueError(f"not valid JSON ({str(exc).split(';')[0]})") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")
