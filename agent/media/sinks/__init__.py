"""Sinks: where a session's outputs go (agent audio players, recording, trace, turns, terminal view)."""
