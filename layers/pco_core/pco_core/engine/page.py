"""The page loop every run kind uses: read the run, hold the lease, do one bounded page of the current
domain's work, commit it once, and tell the state machine what next (continue, wait, continue-as-new, done).

The run item is the truth (never the state machine's input): a page retried after a crash starts from the
committed cursor, and a commit that finds the page already counted (or the run cancelled) changes nothing.
Watermarks a domain reaches are committed with the page that reached them (on the run item) and stored for
the deployment once the run completes, so a failed or cancelled run never moves them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from pco_core.clock import Clock, Sleep
from pco_core.engine.domain import Domain, DomainContext, DomainPage
from pco_core.engine.overall import needs_totals, read_totals, whole_run
from pco_core.engine.ports import AuditLedger, Pco, Records, RunLedger
from pco_core.errors import LeaseLost, RateLimited
from pco_core.observability import Metric, count, count_run
from pco_core.pco.retry import RetryingReads
from pco_core.records import ConflictPolicy
from pco_core.runstate import (
    Cursor,
    PageCounts,
    PageResult,
    RecordFailure,
    RecordTotals,
    Run,
    RunProgress,
    RunWait,
    TotalsKind,
    Watermark,
)
from pco_core.runstate import Domain as DomainName

logger = Logger(child=True)

PAGES_BEFORE_CONTINUE_AS_NEW = 1000
# The page Lambda's timeout (template.yaml): how long a page may run when its caller does not say.
DEFAULT_PAGE_SECONDS = 120
# Requests kept in hand when PCO's rate headers say the window is nearly spent.
RATE_RESERVE = 10
# The last seconds of a page's time budget are kept for merging, writing and committing: failed PCO reads
# are retried in the page only before that.
WRITE_RESERVE_SECONDS = 30

type Domains = Mapping[DomainName, Domain]  # type: ignore[type-arg]


@dataclass(frozen=True)
class PageDeps:
    """Everything a page needs, injected: PCO, both stores, the clock, the lease and the domain table, how
    to pause between retried PCO reads, and the conflict policy of its three-way merges."""

    pco: Pco
    records: Records
    runs: RunLedger
    clock: Clock
    lease_seconds: int
    domains: Domains
    audit: AuditLedger | None = None
    sleep: Sleep = time.sleep
    policy: ConflictPolicy = "review"


def run_page(
    run_id: str, max_wait_seconds: int, deps: PageDeps, *, page_seconds: int = DEFAULT_PAGE_SECONDS
) -> PageResult:
    """One page of run `run_id`; LeaseLost propagates (the state machine fails the run).

    `page_seconds` is the most this invocation can live (its Lambda's remaining time): the lock says a page
    is in flight until then, so a cancel cannot hand the lock to a new run while this page still writes.
    """
    run = deps.runs.get_run(run_id)
    if run is None or run.status != "RUNNING":
        logger.info("run is not running: nothing to do", extra={"status": run.status if run else None})
        return _finished(run_id, run, deps)

    began = deps.clock()
    try:
        deps.runs.begin_page(run_id, began, deps.lease_seconds, page_seconds)
    except LeaseLost:
        # Cancelled between our read and the refresh: the run is over, not failed. Another run holding
        # the lock while this one is still RUNNING is a real loss: the state machine fails the run.
        fresh = deps.runs.get_run(run_id)
        if fresh is None or fresh.status != "RUNNING":
            return _finished(run_id, fresh, deps)
        raise
    try:
        return _page(
            run, max_wait_seconds, deps, began + timedelta(seconds=page_seconds - WRITE_RESERVE_SECONDS)
        )
    finally:
        # Whatever happened, this page writes nothing more (a crash leaves the mark until it expires).
        deps.runs.end_page(run_id)


def _page(run: Run, max_wait_seconds: int, deps: PageDeps, reads_until: datetime) -> PageResult:
    run_id = run.id
    index = run.cursor.domain_index
    counts = PageCounts()
    failures: list[RecordFailure] = []
    reached: dict[str, Watermark] = dict(run.reached)
    totals: dict[TotalsKind, RecordTotals] = dict(run.totals)
    if index >= len(run.domains):
        # Every domain is done but the completing commit never landed (or the run has no domains).
        cursor, progress, done = run.cursor, run.progress, True
    else:
        domain = run.domains[index]
        context = DomainContext(
            pco=RetryingReads(
                deps.pco,
                deadline=reads_until,
                clock=deps.clock,
                sleep=deps.sleep,
                on_retry=lambda attempt, attempts, at: deps.runs.note_wait(
                    run_id, RunWait(reason="pco_unavailable", until=at, attempt=attempt, attempts=attempts)
                ),
            ),
            records=deps.records,
            run_id=run_id,
            clock=deps.clock,
            still_running=lambda: _still_running(run_id, deps),
            started_at=run.started_at,
            watermarks=run.watermarks,
            audit=deps.audit,
            policy=deps.policy,
        )
        try:
            step_totals = read_totals(run, deps.domains, context) if needs_totals(run) else {}
            page = deps.domains[domain].run(context, run.cursor.position)
        except RateLimited as exc:
            wait = min(exc.retry_after, max_wait_seconds)
            logger.info("rate limited: nothing committed", extra={"domain": domain, "wait_seconds": wait})
            deps.runs.note_wait(run_id, _rate_wait(deps, wait))
            return PageResult(run_id=run_id, cursor=run.cursor.model_dump(mode="json"), wait_seconds=wait)
        counts, failures = page.counts, context.failures
        cursor, progress, done = _advance(run, index, page)
        progress = whole_run(run, cursor, progress, done=done, totals=step_totals)
        reached.update(page.reached)
        totals.update(page.totals)

    pages = run.pages_in_execution + 1
    wait = 0 if done else min(deps.pco.suggested_wait(RATE_RESERVE), max_wait_seconds)
    committed = deps.runs.commit_page(
        run_id,
        seen_seq=run.page_seq,
        counts=counts,
        cursor=cursor,
        progress=progress,
        pages_in_execution=pages,
        complete_at=deps.clock() if done else None,
        failures=failures,
        failures_before=run.failed,
        domain=run.domains[index] if index < len(run.domains) else None,
        waiting=_rate_wait(deps, wait),
        reached=reached,
        totals=totals,
    )
    if not committed:
        return _after_lost_commit(run_id, deps)
    if done:
        deps.runs.save_watermarks(reached, run_id=run_id)
    _count_page(run, counts, done)
    logger.info(
        "page committed",
        extra={
            "domain": progress.domain,
            "page_seq": run.page_seq + 1,
            "done": done,
            "counts": counts.model_dump(),
        },
    )
    if done:
        return PageResult(run_id=run_id, cursor=cursor.model_dump(mode="json"), done=True)
    return PageResult(
        run_id=run_id,
        cursor=cursor.model_dump(mode="json"),
        wait_seconds=wait,
        continue_as_new=pages >= PAGES_BEFORE_CONTINUE_AS_NEW,
    )


def _rate_wait(deps: PageDeps, seconds: int) -> RunWait | None:
    """What the run shows while the state machine waits `seconds` for PCO's rate limit."""
    if seconds <= 0:
        return None
    return RunWait(reason="rate_limit", until=deps.clock() + timedelta(seconds=seconds))


def _count_page(run: Run, counts: PageCounts, done: bool) -> None:
    """Metrics of a committed page (an attempt whose commit was refused counted nothing)."""
    count(Metric.PAGES)
    count(Metric.RECORDS_CREATED, counts.created)
    count(Metric.RECORDS_UPDATED, counts.updated)
    count(Metric.RECORDS_SKIPPED, counts.skipped)
    count(Metric.RECORDS_FAILED, counts.failed)
    if done:
        count_run(Metric.RUNS_COMPLETED, run.type)


def _still_running(run_id: str, deps: PageDeps) -> bool:
    run = deps.runs.get_run(run_id)
    return run is not None and run.status == "RUNNING"


def _advance(run: Run, index: int, page: DomainPage) -> tuple[Cursor, RunProgress, bool]:
    """The cursor and progress after `page`, and whether the run is complete."""
    domain = run.domains[index]
    if page.next_position is not None:
        progress = RunProgress(domain=domain, processed=page.processed, total=page.total)
        position = page.next_position.model_dump(mode="json", exclude_defaults=True)
        return Cursor(domain_index=index, position=position), progress, False
    following = index + 1
    if following < len(run.domains):
        return Cursor(domain_index=following), RunProgress(domain=run.domains[following]), False
    final = RunProgress(domain=domain, processed=page.processed, total=max(page.total or 0, page.processed))
    return Cursor(domain_index=following), final, True


def _after_lost_commit(run_id: str, deps: PageDeps) -> PageResult:
    """The page was committed by an earlier attempt, or the run stopped: count nothing, follow the run."""
    fresh = deps.runs.get_run(run_id)
    if fresh is None or fresh.status != "RUNNING":
        logger.info("commit refused: run is over", extra={"status": fresh.status if fresh else None})
        return _finished(run_id, fresh, deps)
    logger.info("commit refused: page already committed", extra={"page_seq": fresh.page_seq})
    return PageResult(
        run_id=run_id,
        cursor=fresh.cursor.model_dump(mode="json"),
        continue_as_new=fresh.pages_in_execution >= PAGES_BEFORE_CONTINUE_AS_NEW,
    )


def _finished(run_id: str, run: Run | None, deps: PageDeps) -> PageResult:
    if run is not None and run.status != "RUNNING":
        # The completing commit releases the lock, and a cancel leaves it to the page in flight; either
        # way a run that is over lets its lock go (a no-op when another run holds it by now).
        deps.runs.release_lock(run_id)
    if run is not None and run.status == "COMPLETED":
        # The page that completed the run may have died before it stored the watermarks (forward only,
        # so storing them again changes nothing).
        deps.runs.save_watermarks(run.reached, run_id=run_id)
    cursor = run.cursor.model_dump(mode="json") if run is not None else {}
    return PageResult(run_id=run_id, cursor=cursor, done=True)
