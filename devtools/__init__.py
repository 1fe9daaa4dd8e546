"""Developer tools for the test suite and the benchmarks (not shipped in the wheel)."""
