"""The one cache folder: $HUMANSENSE_CACHE, else humansense under $XDG_CACHE_HOME, else ~/.cache/humansense, read
on every call."""
from pathlib import Path

from floor.cache import cache_dir, cache_root, models_dir


def test_the_cache_is_humansense_cache_else_under_xdg_cache_home_else_home(monkeypatch, tmp_path):
    monkeypatch.delenv("HUMANSENSE_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_root() == Path.home() / ".cache" / "humansense"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "humansense"
    monkeypatch.setenv("HUMANSENSE_CACHE", str(tmp_path / "mine"))
    assert cache_dir("scenarios") == tmp_path / "mine" / "scenarios"
    assert models_dir() == tmp_path / "mine" / "models"
