"""HumanSense offline mode: load the published items, prompt a model, score and report next to the paper."""
