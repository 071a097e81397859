"""The error a brain backend raises when it cannot answer (endpoint down, rejected request, broken stream)."""
from __future__ import annotations


class BrainError(RuntimeError):
    """A backend failure with a one-line message naming the backend and the cause."""
