"""Pull benchmark at scale: a sandbox church at PCO's real rate limit (100 requests / 20 s, and 10 / 20 s
past offset 30,000 as PCO is reported to enforce), synced through the local stack (the real state machine,
page Lambda and DynamoDB code, moto standing in for AWS).

Runs, in order: a first Full Sync (everything created), a second one (nothing changed), a quiet Sync People,
a quiet Incremental Sync, then 1% of the people changed in PCO and an Incremental Sync. Per run: PCO requests
(and per 1,000 people), the deepest offset asked, 429s, wall time against the rate-limit floor, pages,
executions (continue-as-new), Step Functions state transitions, DynamoDB calls, estimated read/write units
per page, and the page's own CPU apart from the emulated AWS's. Figures, not assertions: written to
bench/out/pull.json for bench/cost.py and the README.
"""

from __future__ import annotations

import json
import logging
import math
import os
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox, start_sandbox

APP_ID = "bench-app"
SECRET = "bench-secret"  # noqa: S105 (the local sandbox's credential)
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LIMIT, PERIOD = 100, 20  # PCO's documented rate limit: 100 requests per 20 seconds
RUN_POLL_SECONDS = 1.0  # how often the bench looks at the run (a tight poll would compete with the run)
CHANGED_SHARE = 0.01  # "1% of people changed" before the last incremental run
_READS = {"GetItem", "BatchGetItem", "Query", "Scan"}
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class PageCost:
    cpu_seconds: float = 0.0
    aws_cpu_seconds: float = 0.0  # inside boto3 calls, which here includes moto emulating DynamoDB
    aws_calls: int = 0
    pages: int = 0
    peak_heap_bytes: int = 0
    sampled_pages: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    calls_by_operation: Counter[str] = field(default_factory=Counter)
    cpu_by_operation: Counter[str] = field(default_factory=Counter)


@dataclass
class RunFigures:
    label: str
    run_type: str
    status: str
    records: int
    created: int
    updated: int
    skipped: int
    failed: int
    pco_requests: int
    pco_429s: int
    deepest_offset: int
    deepest_offset_people_households: int
    deepest_offsets: dict[str, int]
    wall_seconds: float
    floor_seconds: float
    page_cpu_seconds: float
    page_aws_cpu_seconds: float
    aws_calls: int
    pages: int
    executions: int
    state_transitions: int
    read_units: float
    write_units: float
    peak_page_heap_mib: float
    totals: dict[str, Any]
    query_share_of_aws_cpu: float
    calls_by_operation: dict[str, int]
    aws_cpu_by_operation: dict[str, float]


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str))


def _units(operation: str, params: dict[str, Any], answer: dict[str, Any]) -> tuple[float, float]:
    """DynamoDB's read and write request units for one call, estimated from the items' JSON sizes (a
    strongly consistent read is 1 unit per 4 KB, eventually consistent half; a write 1 per 1 KB; a
    transaction twice)."""
    if operation in _READS:
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        if operation == "GetItem":
            items = [answer.get("Item")] if answer.get("Item") else []
            return max(1.0, sum(math.ceil(_size(i) / 4096) for i in items)) * factor, 0.0
        if operation == "BatchGetItem":
            found = [i for table in answer.get("Responses", {}).values() for i in table]
            requested = sum(len(t.get("Keys", [])) for t in params.get("RequestItems", {}).values())
            units = sum(math.ceil(_size(i) / 4096) for i in found) + (requested - len(found))
            return max(units, 1) * factor, 0.0
        read = sum(_size(i) for i in answer.get("Items", []))  # a projection hides what was read: a floor
        return max(1.0, math.ceil(read / 4096)) * factor, 0.0
    if operation == "BatchWriteItem":
        units = 0
        for requests in params.get("RequestItems", {}).values():
            for request in requests:
                put = request.get("PutRequest")
                units += math.ceil(_size(put["Item"]) / 1024) if put else 1
        return 0.0, float(units)
    if operation == "TransactWriteItems":
        return 0.0, 2.0 * sum(max(1, math.ceil(_size(i) / 1024)) for i in params.get("TransactItems", []))
    return 0.0, float(max(1, math.ceil(_size(params) / 1024)))


@contextmanager
def measured_pages(cost: PageCost, sample_every: int = 25) -> Iterator[None]:
    """Wrap the page function: thread CPU per page, DynamoDB calls and units, every Nth page's heap peak."""
    import botocore.client

    import pco_core.runs.page as handler_module

    real: Callable[..., Any] = handler_module.run_page
    real_call: Callable[..., Any] = botocore.client.BaseClient._make_api_call
    in_page = threading.local()

    def counted_call(client: Any, operation: str, params: Any) -> Any:
        if not getattr(in_page, "active", False):
            return real_call(client, operation, params)
        started = time.thread_time()
        try:
            answer = real_call(client, operation, params)
        finally:
            spent = time.thread_time() - started
            cost.aws_cpu_seconds += spent
            cost.aws_calls += 1
            cost.calls_by_operation[operation] += 1
            cost.cpu_by_operation[operation] += spent
        if operation in _READS | _WRITES:
            reads, writes = _units(operation, params, answer)
            cost.read_units += reads
            cost.write_units += writes
        return answer

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        sample = cost.pages % sample_every == 0
        if sample:
            tracemalloc.start()
        started = time.thread_time()
        in_page.active = True
        try:
            return real(*args, **kwargs)
        finally:
            in_page.active = False
            cost.cpu_seconds += time.thread_time() - started
            cost.pages += 1
            if sample:
                cost.peak_heap_bytes = max(cost.peak_heap_bytes, tracemalloc.get_traced_memory()[1])
                cost.sampled_pages += 1
                tracemalloc.stop()

    handler_module.run_page = wrapped  # type: ignore[assignment]
    botocore.client.BaseClient._make_api_call = counted_call  # type: ignore[method-assign]
    try:
        yield
    finally:
        handler_module.run_page = real  # type: ignore[assignment]
        botocore.client.BaseClient._make_api_call = real_call  # type: ignore[method-assign]


def cold_handler_rss_mib() -> float:
    """Resident memory of a fresh interpreter that has imported the page handler (Lambda's cold start)."""
    code = (
        "import importlib.util, pathlib;"
        "spec = importlib.util.spec_from_file_location('sync_page_app', 'functions/sync_page/app.py');"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module);"
        # VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the parent's peak across fork + exec.
        "print(next(l.split()[1] for l in pathlib.Path('/proc/self/status').read_text().splitlines()"
        " if l.startswith('VmHWM')))"
    )
    env = {**os.environ, "PYTHONPATH": "layers/pco_core:.", "POWERTOOLS_TRACE_DISABLED": "true"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip()) / 1024


def _wait(stack: LocalStack, run_id: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        run = stack.get_run(run_id)
        if run is not None and run.get("status") != "RUNNING" and not stack.running_executions(run_id):
            return
        if time.monotonic() >= deadline:
            raise SystemExit(f"run {run_id} did not end within {timeout} s")
        time.sleep(RUN_POLL_SECONDS)


def _executions(stack: LocalStack, run_id: str) -> tuple[int, int]:
    """How many executions the run took (1 + continue-as-new) and their state transitions."""
    machine = stack.env("SYNC_STATE_MACHINE_ARN")
    pages = stack.stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=machine)
    arns = [e["executionArn"] for page in pages for e in page["executions"] if e["name"].startswith(run_id)]
    entered = sum(
        1 for arn in arns for event in stack.execution_history(arn) if event["type"].endswith("StateEntered")
    )
    return len(arns), entered


def run_once(
    stack: LocalStack, sandbox: RunningSandbox, run_type: str, label: str, timeout: float
) -> RunFigures:
    cost = PageCost()
    counter = sandbox.requests
    before_total, before_429 = counter.snapshot()
    counter.deepest_offset.clear()
    started = time.monotonic()
    with measured_pages(cost):
        status, run = stack.api("POST", "/api/runs", json={"type": run_type}, role="TECH_ADMIN")
        if status != 202:
            raise SystemExit(f"could not start the run: {status} {run}")
        _wait(stack, run["id"], timeout)
    wall = time.monotonic() - started
    _, final = stack.api("GET", f"/api/runs/{run['id']}", role="TECH_ADMIN")
    total, limited = counter.snapshot()
    requests = total - before_total
    executions, transitions = _executions(stack, run["id"])
    deep = dict(counter.deepest_offset)
    walked = [deep.get(p, 0) for p in ("/people/v2/people", "/people/v2/households")]
    query_cpu = cost.cpu_by_operation.get("Query", 0.0)
    return RunFigures(
        label=label,
        run_type=run_type,
        status=final["status"],
        records=final["created"] + final["updated"] + final["skipped"] + final["failed"],
        created=final["created"],
        updated=final["updated"],
        skipped=final["skipped"],
        failed=final["failed"],
        pco_requests=requests,
        pco_429s=limited - before_429,
        deepest_offset=max(deep.values(), default=0),
        deepest_offset_people_households=max(walked),
        deepest_offsets={path: offset for path, offset in sorted(deep.items()) if offset},
        wall_seconds=round(wall, 1),
        floor_seconds=round(requests * PERIOD / LIMIT, 1),
        page_cpu_seconds=round(cost.cpu_seconds, 2),
        page_aws_cpu_seconds=round(cost.aws_cpu_seconds, 2),
        aws_calls=cost.aws_calls,
        pages=cost.pages,
        executions=executions,
        state_transitions=transitions,
        read_units=round(cost.read_units, 1),
        write_units=round(cost.write_units, 1),
        peak_page_heap_mib=round(cost.peak_heap_bytes / 2**20, 1),
        totals=final.get("totals", {}),
        query_share_of_aws_cpu=round(query_cpu / cost.aws_cpu_seconds, 3) if cost.aws_cpu_seconds else 0.0,
        calls_by_operation=dict(cost.calls_by_operation),
        aws_cpu_by_operation={op: round(spent, 2) for op, spent in cost.cpu_by_operation.items()},
    )


def records_table_bytes(stack: LocalStack) -> int:
    """The records table's size as DynamoDB bills storage (items' JSON size here: a close estimate)."""
    pages = stack.dynamodb.get_paginator("scan").paginate(TableName=stack.env("RECORDS_TABLE"))
    return sum(_size(item) for page in pages for item in page["Items"])


def change_people(sandbox: RunningSandbox, share: float) -> int:
    """Staff change `share` of the people in PCO: half a last name, half their first email. How many."""
    store = sandbox.sandbox.store
    people = sorted(store.all("Person"), key=lambda r: int(r.id))
    chosen = people[:: max(1, round(1 / share))]
    with httpx.Client(base_url=sandbox.url, timeout=30) as http:
        for n, person in enumerate(chosen):
            emails = store.children("Email", "person", person.id)
            if n % 2 and emails:
                answer = http.patch(
                    f"/_sandbox/emails/{emails[0].id}", json={"address": f"bench{n}@example.org"}
                )
            else:
                answer = http.patch(f"/_sandbox/people/{person.id}", json={"last_name": f"Changed{n}"})
            answer.raise_for_status()
    return len(chosen)


def main(people: int = 10_000, seed: int = 7) -> dict[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per sandbox request is noise here
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    generated = time.monotonic()
    sandbox = start_sandbox(
        port=0, people=people, seed=seed, app_id=APP_ID, secret=SECRET, rate_limit=(LIMIT, PERIOD)
    )
    generated = time.monotonic() - generated
    timeout = max(3600.0, people * 0.5)
    runs: list[RunFigures] = []
    changed = table_bytes = 0
    try:
        env = {"RUN_MAX_WAIT_SECONDS": str(PERIOD)}
        with LocalStack.start(sandbox.url, APP_ID, SECRET, extra_env=env) as stack:
            runs.append(run_once(stack, sandbox, "full_sync", "first Full Sync (all created)", timeout))
            runs.append(run_once(stack, sandbox, "full_sync", "second Full Sync (nothing changed)", timeout))
            runs.append(run_once(stack, sandbox, "people", "Sync People, quiet", timeout))
            runs.append(run_once(stack, sandbox, "incremental_sync", "Incremental Sync, quiet", timeout))
            changed = change_people(sandbox, CHANGED_SHARE)
            runs.append(
                run_once(
                    stack, sandbox, "incremental_sync", f"Incremental Sync, {changed} people changed", timeout
                )
            )
            table_bytes = records_table_bytes(stack)
    finally:
        sandbox.stop()
    store = sandbox.sandbox.store
    report = {
        "people": people,
        "households": store.count("Household"),
        "groups": store.count("Group"),
        "changed_people": changed,
        "records_table_bytes": table_bytes,
        "seed": seed,
        "rate_limit": f"{LIMIT} requests / {PERIOD} s",
        "sandbox_generation_seconds": round(generated, 1),
        "cold_page_handler_rss_mib": round(cold_handler_rss_mib(), 1),
        "bench_process_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "runs": [asdict(run) for run in runs],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pull.json").write_text(json.dumps(report, indent=2))
    print(render(report))
    return report


def render(report: dict[str, Any]) -> str:
    people = report["people"]
    lines = [
        f"Pull benchmark: {people:,} people, {report['households']:,} households, "
        f"{report['groups']:,} groups (seed {report['seed']}), PCO rate limit {report['rate_limit']}",
        f"cold page-handler import: {report['cold_page_handler_rss_mib']} MiB RSS",
        "",
        "| run | status | PCO requests | per 1,000 people | deepest offset (people, households) | 429s "
        "| wall | rate-limit floor | pages | executions | pages per execution | DynamoDB calls per page "
        "| RRU / WRU per page | pco_core CPU per page | emulated AWS CPU per page (Query share) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in report["runs"]:
        pages = max(run["pages"], 1)
        own = (run["page_cpu_seconds"] - run["page_aws_cpu_seconds"]) / pages
        aws = run["page_aws_cpu_seconds"] / pages
        lines.append(
            f"| {run['label']} | {run['status']} | {run['pco_requests']:,} "
            f"| {run['pco_requests'] * 1000 / people:.1f} "
            f"| {run['deepest_offset']:,} ({run['deepest_offset_people_households']:,}) | {run['pco_429s']} "
            f"| {run['wall_seconds']:,.0f} s | {run['floor_seconds']:,.0f} s | {run['pages']:,} "
            f"| {run['executions']} | {run['pages'] / max(run['executions'], 1):,.0f} "
            f"| {run['aws_calls'] / pages:.1f} "
            f"| {run['read_units'] / pages:.1f} / {run['write_units'] / pages:.1f} "
            f"| {own * 1000:.0f} ms | {aws * 1000:.0f} ms ({run['query_share_of_aws_cpu']:.0%}) |"
        )
    return "\n".join(lines)
