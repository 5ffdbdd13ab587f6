"""Benchmarks: figures with PCO request counts, never timed assertions (`make bench`)."""
