"""The demo conversation and the synthetic media (voices, face) it and the benchmarks are rendered from."""
