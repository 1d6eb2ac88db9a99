"""Benchmarks of vetgraph and their runner (`bench.run`); the synthetic corpus comes from `vetgraph.synth`."""
