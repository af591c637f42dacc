"""Long-running benchmarks (not part of the test suite); see benchmarks/README.md."""
