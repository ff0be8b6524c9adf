"""Reproducible benchmarks and their recorded results (``make bench``)."""
