"""Sync runs: their lifecycle, counters, cursor and the one-run-at-a-time lease."""
