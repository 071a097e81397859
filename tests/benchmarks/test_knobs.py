"""A benchmark asks whether this checkout's config has a setting before it sets it."""
from __future__ import annotations

from benchmarks.knobs import has_setting


def test_known_keys_are_found_at_any_depth() -> None:
    assert has_setting("vad.threshold")
    assert has_setting("session")


def test_unknown_keys_and_keys_below_a_leaf_are_not() -> None:
    assert not has_setting("vad.no_such_knob")
    assert not has_setting("no_section.x")
    assert not has_setting("vad.threshold.deeper")
