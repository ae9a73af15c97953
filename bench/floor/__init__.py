"""A lean reference app for the benchmarks to measure the services against."""
