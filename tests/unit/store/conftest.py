"""The store tests use the shared unit fixtures (tests/unit/conftest.py)."""
