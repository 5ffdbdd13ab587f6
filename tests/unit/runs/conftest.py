"""The run tests use the shared unit fixtures (tests/unit/conftest.py)."""
