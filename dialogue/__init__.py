"""Dialogue: the turn-taking policy, the brain backends, the reasoning prompt and its streaming parser."""
