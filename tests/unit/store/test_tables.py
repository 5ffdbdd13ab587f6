"""The test tables come from template.yaml; they must match the key schema the store is written against."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.store import tables
from tests.unit.store.tables import CONTRACT_TABLES, table_schema


@pytest.mark.parametrize("logical_id", ["RecordsTable", "SyncStateTable"])
def test_the_templates_key_schema_is_the_contracts(logical_id):
    schema = table_schema(logical_id)
    expected = CONTRACT_TABLES[logical_id]

    def key_of(s):
        return (
            sorted((a["AttributeName"], a["AttributeType"]) for a in s["AttributeDefinitions"]),
            s["KeySchema"],
            s.get("GlobalSecondaryIndexes", []),
        )

    assert key_of(schema) == key_of(expected)


def test_without_a_template_the_contract_schema_is_used(monkeypatch):
    monkeypatch.setattr(tables, "TEMPLATE", Path("/nonexistent/template.yaml"))
    assert table_schema("RecordsTable") is CONTRACT_TABLES["RecordsTable"]


def test_importing_and_building_the_stores_touches_no_aws():
    # No region, no credentials, no endpoint: a client created at import or construction would fail.
    code = (
        "import pco_core.store.records, pco_core.store.runs, pco_core.store.executions, "
        "pco_core.store.secrets, pco_core.runs.service as s\n"
        "r = pco_core.store.records.RecordStore('t'); u = pco_core.store.runs.RunStore('t')\n"
        "e = pco_core.store.executions.ExecutionStarter('arn:aws:states:x:1:stateMachine:m')\n"
        "s.RunService(u, e, lambda: None, 900)\n"
        "assert r._client is None and u._client is None and e._client is None\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": "layers/pco_core", "AWS_CONFIG_FILE": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.returncode == 0, result.stderr
