"""Benchmarks of vetgraph: a synthetic corpus generator (`bench.synth`) and a runner (`bench.run`)."""
