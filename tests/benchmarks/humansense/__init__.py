"""Tests of the HumanSense offline mode (benchmarks/humansense)."""
