"""The monthly AWS bill of one church's deployment, from the pull benchmark's measured per-page figures.

`make bench` measures, per run kind, what one page costs (Step Functions state transitions, DynamoDB calls and
estimated read/write units, the page's own CPU, PCO requests) on a church of its size; this scales the pages
to churches of 1,000 to 500,000 people and prices a month of an hourly Incremental Sync, a nightly Full Sync
and one webhook per 10 people a day at list prices (us-east-1, no free tier, no savings plan). Every price is
a named constant with its source and the date it was read; every assumption is named too.

Run on its own: `python -m bench.cost [bench/out/pull.json]`.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"

# ---- list prices, us-east-1, as published on the pages named below (check them before quoting a bill)
# https://aws.amazon.com/lambda/pricing/ : Arm, first 7.5 billion GB-s a month; requests, both architectures.
LAMBDA_ARM_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
# https://aws.amazon.com/step-functions/pricing/ : Standard workflows.
SFN_STATE_TRANSITION = 0.025 / 1_000
# https://aws.amazon.com/dynamodb/pricing/on-demand/ : on-demand since the 2024-11-01 price cut; storage,
# Standard table class, past the first 25 GB (the free 25 GB is left out, as every free tier here).
DYNAMODB_WRITE_UNIT = 0.625 / 1_000_000
DYNAMODB_READ_UNIT = 0.125 / 1_000_000
DYNAMODB_GB_MONTH = 0.25
# https://aws.amazon.com/sqs/pricing/ : standard queue requests (64 KB chunks; a delivery is one).
SQS_REQUEST = 0.40 / 1_000_000
# https://aws.amazon.com/api-gateway/pricing/ : HTTP APIs, first 300 million requests a month.
HTTP_API_REQUEST = 1.00 / 1_000_000
# https://aws.amazon.com/cloudwatch/pricing/ : Logs, Standard ingestion.
LOG_GB_INGESTED = 0.50
# https://aws.amazon.com/secrets-manager/pricing/ : per secret a month (the PCO credentials).
SECRET_MONTH = 0.40

# ---- the deployment (template.yaml)
PAGE_MEMORY_GB = 0.5  # SyncPageFunction MemorySize 512
WEBHOOK_MEMORY_GB = 0.25  # WebhookFunction and WebhookWorkerFunction: the Globals' 256
WORKER_BATCH = 10  # the worker's SQS BatchSize
SECRETS = 1
PAGES_PER_EXECUTION = 1000  # pco_core.engine.page.PAGES_BEFORE_CONTINUE_AS_NEW

# ---- assumptions (not measured here; each one moves the figures it names)
# Lambda's CPU share at 512 MB is 512/1769 of a vCPU (AWS: a full vCPU at 1,769 MB); the bench measures a
# page's own CPU on a full core, so on Lambda it takes this much longer.
LAMBDA_CPU_SLOWDOWN = 1769 / 512
DYNAMODB_CALL_SECONDS = 0.008  # one DynamoDB call from Lambda in the same region, batches included
PCO_REQUEST_SECONDS = 0.35  # one PCO API answer, 100 records with includes, as seen from us-east-1
SFN_SECONDS_PER_TRANSITION = 0.02  # Step Functions' own latency between states
LOG_BYTES_PER_PAGE = 1_500  # the page's structured log lines (start, page committed, end report)
WEBHOOKS_PER_PERSON_DAY = 0.1  # the load: one webhook per 10 people a day
WEBHOOK_SECONDS = 0.05  # the receiver: verify, claim the delivery id, one SQS send (bench/webhooks.py: 22 ms)
WORKER_SECONDS_PER_DELIVERY = 0.06  # the worker, per delivery applied
WEBHOOK_READ_UNITS = 5.0  # per delivery: its log item, the record's lookups and record, the trail
WEBHOOK_WRITE_UNITS = 6.0  # per delivery: claim + queued mark, the record (and lookups), trail, outcome
SQS_REQUESTS_PER_DELIVERY = 1 + 2 / WORKER_BATCH  # one send; a receive and a delete per batch
# Lambda polls the queue with 5 long polls of 20 s while idle (AWS Lambda docs, SQS event source mapping).
SQS_IDLE_RECEIVES_MONTH = 5 * 3 * 60 * 24 * 30
BYTES_PER_PERSON_DEFAULT = 3_000  # records table bytes per person when the bench did not measure it
INCREMENTAL_RUNS_MONTH = 24 * 30 - 30  # hourly, less the hour the nightly Full Sync is running
FULL_RUNS_MONTH = 30
CHURCH_SIZES = (1_000, 10_000, 100_000, 500_000)
# The pages of an Incremental Sync that do not grow with the church: people, emails, phone numbers, addresses.
FIXED_INCREMENTAL_PAGES = 4
RATE_LIMIT_SECONDS_PER_REQUEST = 20 / 100  # PCO: 100 requests per 20 s


@dataclass(frozen=True)
class PageFigures:
    """What one page of a run kind costs, as measured."""

    pages: int
    pco_requests: int
    transitions_per_page: float
    dynamodb_calls_per_page: float
    read_units_per_page: float
    write_units_per_page: float
    cpu_seconds_per_page: float

    @classmethod
    def of(cls, run: dict[str, Any]) -> PageFigures:
        pages = max(int(run["pages"]), 1)
        own_cpu = float(run["page_cpu_seconds"]) - float(run["page_aws_cpu_seconds"])
        return cls(
            pages=pages,
            pco_requests=int(run["pco_requests"]),
            transitions_per_page=run["state_transitions"] / pages,
            dynamodb_calls_per_page=run["aws_calls"] / pages,
            read_units_per_page=run["read_units"] / pages,
            write_units_per_page=run["write_units"] / pages,
            cpu_seconds_per_page=own_cpu / pages,
        )

    def lambda_seconds_per_page(self) -> float:
        requests_per_page = self.pco_requests / self.pages
        return (
            self.cpu_seconds_per_page * LAMBDA_CPU_SLOWDOWN
            + self.dynamodb_calls_per_page * DYNAMODB_CALL_SECONDS
            + requests_per_page * PCO_REQUEST_SECONDS
        )


@dataclass(frozen=True)
class RunCost:
    """One run of a kind for a church of a size: its pages, PCO requests, dollars and how long it takes."""

    pages: int
    pco_requests: int
    dollars: dict[str, float]
    seconds: float
    floor_seconds: float
    executions: int


def _run_cost(figures: PageFigures, pages: int, requests: int) -> RunCost:
    lambda_seconds = pages * figures.lambda_seconds_per_page()
    transitions = pages * figures.transitions_per_page
    dollars = {
        "lambda": lambda_seconds * PAGE_MEMORY_GB * LAMBDA_ARM_GB_SECOND + pages * LAMBDA_REQUEST,
        "step_functions": transitions * SFN_STATE_TRANSITION,
        "dynamodb": pages
        * (
            figures.read_units_per_page * DYNAMODB_READ_UNIT
            + figures.write_units_per_page * DYNAMODB_WRITE_UNIT
        ),
        "logs": pages * LOG_BYTES_PER_PAGE / 1e9 * LOG_GB_INGESTED,
    }
    # Pages run one after another: the run lasts its pages' time, or PCO's rate limit if that is longer.
    floor = requests * RATE_LIMIT_SECONDS_PER_REQUEST
    seconds = max(lambda_seconds + transitions * SFN_SECONDS_PER_TRANSITION, floor)
    return RunCost(pages, requests, dollars, seconds, floor, math.ceil(pages / PAGES_PER_EXECUTION))


def _scaled(figures: PageFigures, ratio: float, fixed_pages: int = 0) -> tuple[int, int]:
    """Pages and PCO requests of a run for a church `ratio` times the measured one's size."""
    pages = fixed_pages + math.ceil((figures.pages - fixed_pages) * ratio)
    per_page = figures.pco_requests / figures.pages
    return pages, math.ceil(pages * per_page)


def _webhooks_month(people: int) -> dict[str, float]:
    deliveries = people * WEBHOOKS_PER_PERSON_DAY * 30
    compute = deliveries * (WEBHOOK_SECONDS + WORKER_SECONDS_PER_DELIVERY) * WEBHOOK_MEMORY_GB
    invocations = deliveries * (1 + 1 / WORKER_BATCH)
    return {
        "lambda": compute * LAMBDA_ARM_GB_SECOND + invocations * LAMBDA_REQUEST,
        "api_gateway": deliveries * HTTP_API_REQUEST,
        "sqs": (deliveries * SQS_REQUESTS_PER_DELIVERY + SQS_IDLE_RECEIVES_MONTH) * SQS_REQUEST,
        "dynamodb": deliveries
        * (WEBHOOK_READ_UNITS * DYNAMODB_READ_UNIT + WEBHOOK_WRITE_UNITS * DYNAMODB_WRITE_UNIT),
    }


def model(report: dict[str, Any]) -> dict[str, Any]:
    runs = {run["label"]: run for run in report["runs"]}
    full = PageFigures.of(next(r for label, r in runs.items() if label.startswith("second Full Sync")))
    quiet = PageFigures.of(
        next(r for label, r in runs.items() if label.startswith("Incremental Sync, quiet"))
    )
    measured = int(report["people"])
    # A report without the table's size (or from before it was measured) takes the named default.
    bytes_per_person = (report.get("records_table_bytes") or BYTES_PER_PERSON_DEFAULT * measured) / measured
    churches = []
    for people in CHURCH_SIZES:
        ratio = people / measured
        nightly = _run_cost(full, *_scaled(full, ratio))
        hourly = _run_cost(quiet, *_scaled(quiet, ratio, FIXED_INCREMENTAL_PAGES))
        month: dict[str, float] = {}
        for cost, times in ((nightly, FULL_RUNS_MONTH), (hourly, INCREMENTAL_RUNS_MONTH)):
            for service, dollars in cost.dollars.items():
                month[service] = month.get(service, 0.0) + dollars * times
        for service, dollars in _webhooks_month(people).items():
            month[service] = month.get(service, 0.0) + dollars
        month["dynamodb"] += people * bytes_per_person / 1e9 * DYNAMODB_GB_MONTH
        month["secrets_manager"] = SECRETS * SECRET_MONTH
        churches.append(
            {
                "people": people,
                "full_sync": asdict(nightly),
                "incremental_sync": asdict(hourly),
                "pco_requests_month": nightly.pco_requests * FULL_RUNS_MONTH
                + hourly.pco_requests * INCREMENTAL_RUNS_MONTH,
                "month": {k: round(v, 2) for k, v in month.items()},
                "total": round(sum(month.values()), 2),
            }
        )
    return {"measured_people": measured, "churches": churches}


def render(costed: dict[str, Any]) -> str:
    lines = [
        f"Monthly AWS cost at list prices (us-east-1), from per-page figures measured on "
        f"{costed['measured_people']:,} people; hourly Incremental Sync, nightly Full Sync, 1 webhook per "
        "10 people a day",
        "",
        "| people | Full Sync: pages, PCO requests, time (floor), executions "
        "| Incremental Sync: pages, requests, time | Lambda | Step Functions | DynamoDB "
        "| SQS + API Gateway | logs + secret | total / month |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for church in costed["churches"]:
        full, hourly, month = church["full_sync"], church["incremental_sync"], church["month"]
        lines.append(
            f"| {church['people']:,} "
            f"| {full['pages']:,}, {full['pco_requests']:,}, {_duration(full['seconds'])} "
            f"({_duration(full['floor_seconds'])}), {full['executions']} "
            f"| {hourly['pages']:,}, {hourly['pco_requests']:,}, {_duration(hourly['seconds'])} "
            f"| ${month['lambda']:.2f} | ${month['step_functions']:.2f} | ${month['dynamodb']:.2f} "
            f"| ${month['sqs'] + month['api_gateway']:.2f} | ${month['logs'] + month['secrets_manager']:.2f} "
            f"| **${church['total']:.2f}** |"
        )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def main(path: Path = OUT / "pull.json") -> dict[str, Any]:
    costed = model(json.loads(path.read_text()))
    (OUT / "cost.json").write_text(json.dumps(costed, indent=2))
    print(render(costed))
    return costed


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT / "pull.json")
