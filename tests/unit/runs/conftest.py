from __future__ import annotations

from tests.unit.store.conftest import aws, dynamodb, state_table

__all__ = ["aws", "dynamodb", "state_table"]
