"""People: one page of PCO people (with emails, phones, addresses, households) matched and merged."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from pco_core.errors import PcoLinkTaken, SkippableRecordError
from pco_core.pco.models import PcoPerson
from pco_core.records import Person
from pco_core.sync.domain import (
    PER_PAGE,
    DomainContext,
    DomainPage,
    Position,
    Tally,
    int_at,
    next_offset_after,
)
from pco_core.sync.mapping import Outcome, merge_person, person_fields
from pco_core.sync.matching import PersonMatch

logger = Logger(child=True)

PEOPLE_PATH = "/people/v2/people"
PEOPLE_INCLUDE = "emails,phone_numbers,addresses,households"


def pull_people_page(ctx: DomainContext, position: Position) -> DomainPage:
    offset = int_at(position, "offset")
    document = ctx.client.get(
        PEOPLE_PATH,
        # created_at order keeps offsets stable while people are added during the run.
        {"per_page": PER_PAGE, "offset": offset, "include": PEOPLE_INCLUDE, "order": "created_at"},
    )
    tally = Tally()
    people: list[PcoPerson] = []
    for resource in document.resources():
        try:
            people.append(PcoPerson.from_resource(resource, document))
        except SkippableRecordError as exc:
            logger.warning("PCO person skipped", extra={"pco_id": resource.id, "reason": str(exc)})
            tally.failed()

    matches = PersonMatch(ctx.records).match_page(people)
    now = ctx.clock()
    changes: list[tuple[Person, Person | None]] = []
    outcomes: dict[str, Outcome] = {}
    for pco in people:
        existing = matches[pco.id]
        new, outcome = merge_person(
            existing,
            person_fields(pco),
            pco_id=pco.id,
            pco_updated_at=pco.updated_at,
            run_id=ctx.run_id,
            now=now,
        )
        outcomes[pco.id] = outcome
        if new is not None:
            changes.append((new, existing))
    refused: dict[str, str] = {}
    if changes:
        try:
            ctx.records.save_people(changes)
        except PcoLinkTaken as exc:
            # Another local person holds that PCO id (a race with a webhook or a push): not linked twice.
            logger.warning("PCO person not linked", extra={"reason": str(exc)})
            refused = exc.taken
    for pco_id, outcome in outcomes.items():
        if pco_id in refused.values():
            tally.failed()
        else:
            tally.add(outcome)

    processed = int_at(position, "processed") + len(document.resources())
    following = next_offset_after(offset, document.next_offset, PEOPLE_PATH)
    return DomainPage(
        counts=tally.counts,
        next_position=None if following is None else {"offset": following, "processed": processed},
        processed=processed,
        total=document.total_count,
    )
