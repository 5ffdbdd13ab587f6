"""Pull benchmark: a Full Sync of a sandbox church at PCO's real rate limit, on the local stack.

Prints PCO requests per 1,000 people, wall time against the rate-limit floor, local CPU per 1,000
records and the peak memory of a page Lambda, for a first sync (everything created) and a second one
(everything skipped). Figures, not assertions: `make bench` writes them to bench/out/pull.json too.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RequestCount, start_sandbox

APP_ID = "bench-app"
SECRET = "bench-secret"  # noqa: S105 (the local sandbox's credential)
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LIMIT, PERIOD = 100, 20  # PCO's documented rate limit: 100 requests per 20 seconds


@dataclass
class PageCost:
    cpu_seconds: float = 0.0
    aws_cpu_seconds: float = 0.0  # inside boto3 calls, which here includes moto emulating DynamoDB
    aws_calls: int = 0
    pages: int = 0
    peak_heap_bytes: int = 0
    sampled_pages: int = 0


@dataclass
class RunFigures:
    label: str
    status: str
    records: int
    created: int
    updated: int
    skipped: int
    pco_requests: int
    pco_429s: int
    wall_seconds: float
    floor_seconds: float
    page_cpu_seconds: float
    page_aws_cpu_seconds: float
    aws_calls: int
    pages: int
    peak_page_heap_mib: float
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def measured_pages(cost: PageCost, sample_every: int = 10) -> Iterator[None]:
    """Wrap the page function: thread CPU per page, and the heap peak of every Nth page (tracemalloc)."""
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
            return real_call(client, operation, params)
        finally:
            cost.aws_cpu_seconds += time.thread_time() - started
            cost.aws_calls += 1

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


def run_once(stack: LocalStack, counter: RequestCount, label: str, timeout: float) -> RunFigures:
    cost = PageCost()
    before_total, before_429 = counter.snapshot()
    started = time.monotonic()
    with measured_pages(cost):
        status, run = stack.api("POST", "/api/runs", json={"type": "full_sync"}, role="TECH_ADMIN")
        if status != 202:
            raise SystemExit(f"could not start the run: {status} {run}")
        stack.wait_for_run(run["id"], timeout=timeout)
    wall = time.monotonic() - started
    _, final = stack.api("GET", f"/api/runs/{run['id']}", role="TECH_ADMIN")
    total, limited = counter.snapshot()
    requests = total - before_total
    records = final["created"] + final["updated"] + final["skipped"] + final["failed"]
    return RunFigures(
        label=label,
        status=final["status"],
        records=records,
        created=final["created"],
        updated=final["updated"],
        skipped=final["skipped"],
        pco_requests=requests,
        pco_429s=limited - before_429,
        wall_seconds=round(wall, 1),
        floor_seconds=round(requests * PERIOD / LIMIT, 1),
        page_cpu_seconds=round(cost.cpu_seconds, 2),
        page_aws_cpu_seconds=round(cost.aws_cpu_seconds, 2),
        aws_calls=cost.aws_calls,
        pages=cost.pages,
        peak_page_heap_mib=round(cost.peak_heap_bytes / 2**20, 1),
    )


def main(people: int = 10_000, seed: int = 7) -> dict[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per sandbox request is noise here
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    generated = time.monotonic()
    sandbox = start_sandbox(
        port=0, people=people, seed=seed, app_id=APP_ID, secret=SECRET, rate_limit=(LIMIT, PERIOD)
    )
    generated = time.monotonic() - generated
    counter = sandbox.requests
    try:
        env = {"RUN_MAX_WAIT_SECONDS": str(PERIOD)}
        with LocalStack.start(sandbox.url, APP_ID, SECRET, extra_env=env) as stack:
            first = run_once(stack, counter, "first Full Sync (all created)", timeout=3600)
            second = run_once(stack, counter, "second Full Sync (all skipped)", timeout=3600)
    finally:
        sandbox.stop()
    report = {
        "people": people,
        "seed": seed,
        "rate_limit": f"{LIMIT} requests / {PERIOD} s",
        "sandbox_generation_seconds": round(generated, 1),
        "cold_page_handler_rss_mib": round(cold_handler_rss_mib(), 1),
        "bench_process_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "runs": [asdict(first), asdict(second)],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pull.json").write_text(json.dumps(report, indent=2))
    print(render(report))
    return report


def render(report: dict[str, Any]) -> str:
    people = report["people"]
    lines = [
        f"Pull benchmark: {people:,} people (seed {report['seed']}), PCO rate limit {report['rate_limit']}",
        f"cold page-handler import: {report['cold_page_handler_rss_mib']} MiB RSS",
        "",
        "| run | status | records | PCO requests | per 1,000 people | 429s | wall | rate-limit floor "
        "| pco_core CPU per 1,000 records | + emulated AWS CPU | DynamoDB calls per page | pages "
        "| peak page heap |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in report["runs"]:
        per_k_requests = run["pco_requests"] * 1000 / people
        own_cpu = run["page_cpu_seconds"] - run["page_aws_cpu_seconds"]
        per_k_cpu = own_cpu * 1000 / max(run["records"], 1)
        per_k_aws = run["page_aws_cpu_seconds"] * 1000 / max(run["records"], 1)
        calls_per_page = run["aws_calls"] / max(run["pages"], 1)
        lines.append(
            f"| {run['label']} | {run['status']} | {run['records']:,} | {run['pco_requests']} "
            f"| {per_k_requests:.1f} | {run['pco_429s']} | {run['wall_seconds']} s "
            f"| {run['floor_seconds']} s "
            f"| {per_k_cpu:.2f} s | {per_k_aws:.2f} s | {calls_per_page:.1f} | {run['pages']} "
            f"| {run['peak_page_heap_mib']} MiB |"
        )
    return "\n".join(lines)
