"""Pull group memberships: for the local groups that have a PCO id, in id order, each group's whole member
list read from PCO (all its pages) and replaced as a whole. A page stops starting new groups once its
request budget is spent; a group is always read to the end, so a member list is never half replaced.

PCO has no cross-group membership listing and no membership timestamps, so the incremental sync
(`PullMembershipChanges`) re-reads only the groups whose `memberships_count`, as the groups listing gave it,
differs from the number of memberships their list held when last read. A membership webhook is applied at
once and moves that count too. What this misses until the next Full Sync: a member leaving and another
joining between two syncs with neither webhook delivered, and a role change whose webhook was lost.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from pco_core.engine.domain import AfterIdPosition, Domain, DomainContext, DomainPage, Tally
from pco_core.engine.groups_people import GroupsPeople
from pco_core.merge.group import group_member, merge_members
from pco_core.pco.models import PcoMembership
from pco_core.pco.paginate import read_all
from pco_core.pco.paths import memberships_path
from pco_core.records import ConflictEvent, Group, GroupMember

logger = Logger(child=True)

# About eight PCO requests per invocation: a few seconds of work, well inside the rate budget.
REQUEST_BUDGET = 8


class PullMemberships(Domain[AfterIdPosition]):
    position_type = AfterIdPosition
    # Local groups looked at per page: all of them are read here, so no more than the budget can take.
    groups_per_page = REQUEST_BUDGET

    def wanted(self, group: Group) -> bool:
        """Whether this group's member list is read (every linked group's, in a full walk)."""
        return True

    def page(self, ctx: DomainContext, position: AfterIdPosition) -> DomainPage:
        groups = ctx.records.iter_groups_with_pco_id(position.after_id, self.groups_per_page)
        read: list[tuple[Group, list[PcoMembership]]] = []
        requests = 0
        last_id = position.after_id
        considered = 0
        for group in groups:
            if requests >= REQUEST_BUDGET:
                break
            considered += 1
            last_id = group.id
            if not self.wanted(group):
                continue
            assert group.pco_id is not None  # iter_groups_with_pco_id only yields linked groups
            memberships, used = read_all(
                ctx.pco,
                memberships_path(group.pco_id),
                {"include": "person"},
                PcoMembership.from_resource,
            )
            read.append((group, memberships))
            requests += used

        tally = Tally()
        self._merge(ctx, read, tally)
        processed = position.processed + len(read)
        finished = considered == len(groups) and len(groups) < self.groups_per_page
        return DomainPage(
            counts=tally.counts,
            next_position=None if finished else AfterIdPosition(after_id=last_id, processed=processed),
            processed=processed,
        )

    def _merge(self, ctx: DomainContext, read: list[tuple[Group, list[PcoMembership]]], tally: Tally) -> None:
        groups_people = GroupsPeople(ctx.pco, ctx.records)
        people = groups_people.resolve(m for _, memberships in read for m in memberships)
        groups_people.save_learned()
        now = ctx.clock()
        changes: list[tuple[Group, Group | None]] = []
        events: list[ConflictEvent] = []
        for group, memberships in read:
            members: dict[str, GroupMember] = {}
            for membership in memberships:
                person = people.get(membership.person_id) if membership.person_id else None
                if person is None:
                    # Not imported (yet): nothing to link it to.
                    tally.add("skipped")
                    continue
                members.setdefault(person.id, group_member(person.id, membership.role, membership.joined_at))
            result = merge_members(
                group, list(members.values()), run_id=ctx.run_id, now=now, policy=ctx.policy
            )
            tally.add_counts({**(result.row_counts or {}), "conflicts": result.conflict_count})
            events.extend(result.conflicts)
            new = result.record
            written = new or group
            if written.sync.pco_members_read != len(memberships):
                sync = written.sync.model_copy(update={"pco_members_read": len(memberships)})
                new = written.model_copy(update={"sync": sync})
            if new is not None:
                changes.append((new, group))
        if changes:
            ctx.records.save_groups(changes)
        ctx.records.log_conflicts(events)


class PullMembershipChanges(PullMemberships):
    """The member lists of the groups whose PCO count moved since they were read (or never were)."""

    # Groups whose list is current cost no request: look at many per page.
    groups_per_page = 500

    def wanted(self, group: Group) -> bool:
        return (
            group.sync.pco_members_read is None
            or group.sync.pco_members_read != group.sync.pco_members_listed
        )
