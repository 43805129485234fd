"""Benchmarks runnable from the README."""
