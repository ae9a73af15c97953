"""Benchmarks of telemed: each script starts the real processes and prints its figures."""
