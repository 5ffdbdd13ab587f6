"""A run's progress as one number across its steps: "step 2 of 4", and a percentage weighted by the PCO
requests each step is expected to take, which never goes backwards.

A step's weight comes from its record total: PCO's `total_count` of a listing (read once, with one
one-record request per listing, when a run of several steps begins) or, for group memberships, the number
of groups to read. A step whose total is not known yet weighs what the known ones weigh on average.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pco_core.engine.domain import PER_PAGE, Domain, DomainContext
from pco_core.runstate import Cursor, Run, RunProgress
from pco_core.runstate import Domain as DomainName

# A push page walks about this many records (push/walk.py's RECORDS_PER_PAGE).
PUSH_RECORDS_PER_REQUEST = 25
# Memberships are read one group at a time: a group is (at least) one request.
PER_GROUP_DOMAINS: frozenset[str] = frozenset({"memberships"})
FULL = 100


# The runs whose steps' totals are read up front. An Incremental Sync reads only what changed: its totals
# are not known before it runs, and counting would cost PCO requests on every (hourly) run.
COUNTED_RUN_TYPES = frozenset({"full_sync", "groups"})


def needs_totals(run: Run) -> bool:
    """Whether this page reads the totals first: a whole-walk run of several steps, on its first page."""
    first_page = run.page_seq == 0 and not run.progress.step_totals
    return run.type in COUNTED_RUN_TYPES and len(run.domains) > 1 and first_page


def read_totals(run: Run, domains: Mapping[DomainName, Domain[Any]], ctx: DomainContext) -> dict[str, int]:
    """Each step's record total, as far as it can be known before the step runs."""
    totals: dict[str, int] = {}
    for name in run.domains:
        counted = domains[name].count(ctx)
        if counted is not None:
            totals[name] = counted
    if "memberships" in run.domains and "groups" in totals:
        totals.setdefault("memberships", totals["groups"])  # the groups whose members are read
    return totals


def _requests(domain: str, total: int) -> float:
    if domain in PER_GROUP_DOMAINS:
        return max(1, total)
    per_request = PUSH_RECORDS_PER_REQUEST if domain.startswith("push_") else PER_PAGE
    return max(1, math.ceil(total / per_request))


def _weights(domains: list[DomainName], totals: Mapping[str, int]) -> list[float]:
    known = {d: _requests(d, totals[d]) for d in domains if d in totals}
    unknown = sum(known.values()) / len(known) if known else 1.0
    return [known.get(d, unknown) for d in domains]


def whole_run(
    run: Run, cursor: Cursor, progress: RunProgress, *, done: bool, totals: Mapping[str, int] = {}
) -> RunProgress:
    """`progress` (the current step's, as the page left it) with the run's step, steps and percentage."""
    known = {**run.progress.step_totals, **totals}
    domain = progress.domain
    total = progress.total
    if domain is not None:
        if total is not None:
            known[domain] = total
        elif domain in known:
            total = known[domain]
        if total is not None:
            total = max(total, progress.processed)
    steps = len(run.domains)
    if steps == 0:
        return progress.model_copy(update={"percent": FULL if done else 0, "step_totals": known})
    index = min(cursor.domain_index, steps - 1)
    weights = _weights(run.domains, known)
    fraction = 1.0 if done else (min(1.0, progress.processed / total) if total else 0.0)
    share = (sum(weights[:index]) + weights[index] * fraction) / sum(weights)
    percent = FULL if done else min(FULL - 1, math.floor(share * FULL))
    return progress.model_copy(
        update={
            "total": total,
            "step": index + 1,
            "steps": steps,
            "percent": max(percent, run.progress.percent or 0),
            "step_totals": known,
        }
    )
