"""Benchmarks: scripts that seed a throwaway database at scale and print latencies (see README.md)."""
