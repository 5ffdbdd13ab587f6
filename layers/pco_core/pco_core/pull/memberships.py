"""Pull group memberships: for the local groups that have a PCO id, in id order, each group's whole member
list read from PCO (all its pages) and replaced as a whole. A page stops starting new groups once its
request budget is spent; a group is always read to the end, so a member list is never half replaced.
When PCO fails a read (after the page's own retries) the groups already read are still merged and
committed, so the page retried by the state machine starts at the group that failed. A group written
after the page started reading (a membership webhook) keeps that newer member list: the save leaves it.
"""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools import Logger

from pco_core.engine.domain import AfterIdPosition, Domain, DomainContext, DomainPage, Tally
from pco_core.errors import PcoUnavailable
from pco_core.merge.group import group_member, merge_members
from pco_core.pco.models import PcoMembership
from pco_core.pco.paginate import read_all
from pco_core.pco.paths import memberships_path
from pco_core.records import Group, GroupMember

logger = Logger(child=True)

# About eight PCO requests per invocation: a few seconds of work, well inside the rate budget.
REQUEST_BUDGET = 8


class PullMemberships(Domain[AfterIdPosition]):
    position_type = AfterIdPosition

    def page(self, ctx: DomainContext, position: AfterIdPosition) -> DomainPage:
        groups = ctx.records.iter_groups_with_pco_id(position.after_id, REQUEST_BUDGET)
        read: list[tuple[Group, list[PcoMembership]]] = []
        requests = 0
        interrupted = False
        read_at = ctx.clock()
        for group in groups:
            if requests >= REQUEST_BUDGET:
                break
            assert group.pco_id is not None  # iter_groups_with_pco_id only yields linked groups
            try:
                memberships, used = read_all(
                    ctx.pco,
                    memberships_path(group.pco_id),
                    {"include": "person"},
                    PcoMembership.from_resource,
                )
            except PcoUnavailable:
                if not read:
                    raise
                logger.warning("PCO failed a read: the groups read so far are committed", exc_info=True)
                interrupted = True
                break
            read.append((group, memberships))
            requests += used

        tally = Tally()
        self._merge(ctx, read, tally, read_at)
        processed = position.processed + len(read)
        finished = not interrupted and len(read) == len(groups) and len(groups) < REQUEST_BUDGET
        last_id = read[-1][0].id if read else position.after_id
        return DomainPage(
            counts=tally.counts,
            next_position=None if finished else AfterIdPosition(after_id=last_id, processed=processed),
            processed=processed,
        )

    def _merge(
        self,
        ctx: DomainContext,
        read: list[tuple[Group, list[PcoMembership]]],
        tally: Tally,
        read_at: datetime,
    ) -> None:
        people = ctx.records.people_by_pco_ids(
            [m.person_id for _, memberships in read for m in memberships if m.person_id]
        )
        now = ctx.clock()
        changes: list[tuple[Group, Group | None]] = []
        counted: dict[str, dict[str, int]] = {}
        for group, memberships in read:
            members: dict[str, GroupMember] = {}
            for membership in memberships:
                person = people.get(membership.person_id) if membership.person_id else None
                if person is None:
                    # Not imported (yet): nothing to link it to.
                    tally.add("skipped")
                    continue
                members.setdefault(person.id, group_member(person.id, membership.role, membership.joined_at))
            new, counted[group.id] = merge_members(group, list(members.values()), run_id=ctx.run_id, now=now)
            if new is not None:
                changes.append((new, group))
        newer = ctx.records.save_groups(changes, read_at=read_at) if changes else set()
        for group_id, counts in counted.items():
            if group_id in newer:
                # Its member list changed (a webhook) after this read began: that newer list stays.
                logger.info("member list changed since it was read: kept", extra={"group_id": group_id})
                counts = {"skipped": sum(counts.values())}
            tally.add_counts(counts)
