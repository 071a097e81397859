"""Benchmarks: the HumanSense offline harness and the latency benchmarks."""
