"""The test tables come from template.yaml; they must match the key schema the store is written against."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.unit.store.tables import table_schema


def test_the_template_has_the_keys_and_index_the_stores_query():
    # store/records.py and store/runs.py query pk/sk, and the records by kind in id order.
    records, state = table_schema("RecordsTable"), table_schema("SyncStateTable")
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]

    assert records["KeySchema"] == keys
    assert state["KeySchema"] == keys
    kind_index, pending_index = records["GlobalSecondaryIndexes"]
    assert pending_index["IndexName"] == "pending-index"
    assert pending_index["KeySchema"][0] == {"AttributeName": "pending", "KeyType": "HASH"}
    assert kind_index["IndexName"] == "kind-index"
    assert kind_index["KeySchema"] == [
        {"AttributeName": "kind", "KeyType": "HASH"},
        {"AttributeName": "id", "KeyType": "RANGE"},
    ]
    assert kind_index["Projection"] == {"ProjectionType": "ALL"}


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
