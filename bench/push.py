"""Push benchmark: PCO requests per pushed person, for people new to PCO, changed since the last push, and
unchanged, through the local stack (real state machine, page Lambda and store code; moto for AWS).

The sandbox's rate limit is raised for this one: the figure is how many requests a push costs, and at
PCO's 100 per 20 s the new-people run alone would spend its time waiting, not working.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from bench.pull import OUT
from local.stack.harness import LocalStack
from local.stack.pco_sandbox import start_sandbox
from pco_core.records import Address, Email, Person, Phone
from pco_core.store.records import RecordStore

APP_ID = "bench-app"
SECRET = "bench-secret"  # noqa: S105 (the local sandbox's credential)
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Esther", "Fionn", "Grace", "Hiro", "Ines", "José", "Zoë"]
LAST = ["Nguyễn", "Smith-Jones", "O'Brien", "Okafor", "Lindqvist", "García", "Kowalski", "Patel"]


def local_person(rng: random.Random, n: int) -> Person:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return Person(
        id=str(uuid.UUID(int=rng.getrandbits(128))),
        first_name=first,
        last_name=last,
        gender=rng.choice(["Male", "Female", None]),
        birthdate=date(1950 + rng.randrange(60), 1 + rng.randrange(12), 1 + rng.randrange(28)),
        emails=[Email(address=f"{first}.{last}.{n}@example.org".lower().replace("'", ""), primary=True)],
        phones=[Phone(number=f"512-555-{n % 10000:04d}", location="Mobile", primary=True)],
        addresses=[Address(street=f"{n} Chapel Rd", city="Austin", state="TX", zip="78701", primary=True)],
        updated_at=datetime.now(UTC),
    )


@contextmanager
def dynamodb_calls() -> Iterator[Counter[str]]:
    """Every DynamoDB call made in this process meanwhile (the handlers run in-process), by operation."""
    import botocore.client

    real = botocore.client.BaseClient._make_api_call
    calls: Counter[str] = Counter()

    def counted(client: Any, operation: str, params: Any) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
        return real(client, operation, params)

    botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = real  # type: ignore[method-assign]


def push(
    stack: LocalStack, sandbox: Any, label: str, people: int, run_type: str = "push_people"
) -> dict[str, Any]:
    before, _ = sandbox.requests.snapshot()
    started = time.monotonic()
    with dynamodb_calls() as calls:
        status, run = stack.api("POST", "/api/runs", json={"type": run_type}, role="TECH_ADMIN")
        if status != 202:
            raise SystemExit(f"could not start the push: {status} {run}")
        stack.wait_for_run(run["id"], timeout=3600)
        _, final = stack.api("GET", f"/api/runs/{run['id']}", role="TECH_ADMIN")
    after, _ = sandbox.requests.snapshot()
    return {
        "run_type": run_type,
        "dynamodb_calls": sum(calls.values()),
        "label": label,
        "status": final["status"],
        "created": final["created"],
        "updated": final["updated"],
        "skipped": final["skipped"],
        "pco_requests": after - before,
        "per_person": round((after - before) / people, 2),
        "wall_seconds": round(time.monotonic() - started, 1),
    }


def main(people: int = 1000, seed: int = 7) -> dict[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    rng = random.Random(seed)
    sandbox = start_sandbox(
        port=0, people=0, seed=seed, app_id=APP_ID, secret=SECRET, rate_limit=(100_000, 20)
    )
    try:
        with LocalStack.start(sandbox.url, APP_ID, SECRET, extra_env={"RUN_MAX_WAIT_SECONDS": "20"}) as stack:
            records = RecordStore(stack.env("RECORDS_TABLE"))
            local = [local_person(rng, n) for n in range(people)]
            records.save_people([(p, None) for p in local])
            runs = [push(stack, sandbox, "new to PCO (one email, phone, address each)", people)]
            pushed = records.get_people([p.id for p in local])
            changed = [
                (p.model_copy(update={"last_name": p.last_name + "-Lee", "updated_at": datetime.now(UTC)}), p)
                for p in pushed.values()
            ]
            records.save_people(changed)
            runs.append(push(stack, sandbox, "changed (last name)", people))
            runs.append(push(stack, sandbox, "unchanged", people))
            # Nothing pending anywhere: each domain reads one empty page of the pending index.
            runs.append(push(stack, sandbox, "no-op Full Push (nothing pending)", people, "full_push"))
    finally:
        sandbox.stop()
    report = {"people": people, "seed": seed, "runs": runs}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "push.json").write_text(json.dumps(report, indent=2))
    print(render(report))
    return report


def render(report: dict[str, Any]) -> str:
    lines = [
        f"Push benchmark: {report['people']:,} local people pushed to the sandbox (push_people)",
        "",
        "| people | run | status | created | updated | skipped | PCO requests | per person "
        "| DynamoDB calls | wall |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['label']} | {r['run_type']} | {r['status']} | {r['created']} | {r['updated']} "
        f"| {r['skipped']} | {r['pco_requests']} | {r['per_person']} | {r['dynamodb_calls']} "
        f"| {r['wall_seconds']} s |"
        for r in report["runs"]
    ]
    lines += [
        "",
        "DynamoDB calls include the admin API's start and the run's bookkeeping (lock, run item, commits),",
        "not only the records: a no-op push's count does not grow with the church.",
    ]
    return "\n".join(lines)
