"""Latency benchmark: scripted scenarios replayed through the runtime and measured against ground truth."""
