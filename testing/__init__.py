"""Test support shared by the tests, the offline policy run and the benchmarks (not shipped)."""
