"""Pull group memberships: for the local groups that have a PCO id, in id order, each group's whole member
list read from PCO (all its pages) and replaced as a whole. A page stops starting new groups once its
request budget is spent; a group is always read to the end, so a member list is never half replaced.

PCO has no cross-group membership listing and no membership timestamps, so the incremental sync
(`PullMembershipChanges`) re-reads only the groups whose `memberships_count`, as the groups listing gave it,
differs from the number of memberships their list held when last read. A membership webhook is applied at
once and moves that count too. What this misses until the next Full Sync: a member leaving and another
joining between two syncs with neither webhook delivered, and a role change whose webhook was lost.
When PCO fails a read (after the page's own retries) the groups already read are still merged and
committed, so the page retried by the state machine starts at the group that failed.

Each group's list is merged three ways (merge/group.py) against the list as last agreed with PCO. A
membership webhook changes one member of that agreed list. When one was applied after the page began
reading (the save finds the group written since), the group is read again and merged anew: PCO's list as
read, with every member the webhook changed as the webhook left it, so neither PCO's list nor the newer
change is lost, and a local edit made meanwhile is merged as any local edit is.
"""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools import Logger

from pco_core.engine.domain import AfterIdPosition, Domain, DomainContext, DomainPage, Tally
from pco_core.engine.groups_people import GroupsPeople
from pco_core.errors import PcoUnavailable
from pco_core.merge.common import Merged
from pco_core.merge.group import group_member, merge_members
from pco_core.pco.models import PcoMembership
from pco_core.pco.paginate import read_all
from pco_core.pco.paths import memberships_path
from pco_core.records import ConflictEvent, Group, GroupMember

logger = Logger(child=True)

# About eight PCO requests per invocation: a few seconds of work, well inside the rate budget.
REQUEST_BUDGET = 8
# How many times a page merges again a member list that keeps changing under it before it leaves it as is.
REBASE_ATTEMPTS = 3


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
        interrupted = False
        read_at = ctx.clock()
        for group in groups:
            if requests >= REQUEST_BUDGET:
                break
            if not self.wanted(group):
                considered, last_id = considered + 1, group.id
                continue
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
            considered, last_id = considered + 1, group.id
            read.append((group, memberships))
            requests += used

        tally = Tally()
        self._merge(ctx, read, tally, read_at)
        processed = position.processed + len(read)
        finished = not interrupted and considered == len(groups) and len(groups) < self.groups_per_page
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
        groups_people = GroupsPeople(ctx.pco, ctx.records)
        people = groups_people.resolve(m for _, memberships in read for m in memberships)
        groups_people.save_learned()
        now = ctx.clock()
        changes: list[tuple[Group, Group | None]] = []
        pco_lists: dict[str, list[GroupMember]] = {}
        results: dict[str, Merged[Group]] = {}
        for group, memberships in read:
            members: dict[str, GroupMember] = {}
            for membership in memberships:
                person = people.get(membership.person_id) if membership.person_id else None
                if person is None:
                    # Not imported (yet): nothing to link it to.
                    tally.add("skipped")
                    continue
                members.setdefault(person.id, group_member(person.id, membership.role, membership.joined_at))
            pco_lists[group.id] = list(members.values())
            results[group.id] = result = merge_members(
                group, pco_lists[group.id], run_id=ctx.run_id, now=now, policy=ctx.policy
            )
            changes.extend(_members_read(result.record, group, len(memberships)))
        newer = ctx.records.save_groups(changes, read_at=read_at) if changes else set()
        as_read = {group.id: group for group, _ in read}
        read_counts = {group.id: len(memberships) for group, memberships in read}
        for _ in range(REBASE_ATTEMPTS):
            if not newer:
                break
            reread_at = ctx.clock()
            fresh = {
                group.id: group
                for group in ctx.records.groups_by_pco_ids(str(as_read[gid].pco_id) for gid in newer).values()
                if group.id in newer
            }
            again: list[tuple[Group, Group | None]] = []
            for current in fresh.values():
                rebased = _with_pco_changes(
                    pco_lists[current.id], _agreed(as_read[current.id]), _agreed(current)
                )
                results[current.id] = result = merge_members(
                    current, rebased, run_id=ctx.run_id, now=now, policy=ctx.policy
                )
                again.extend(_members_read(result.record, current, read_counts[current.id]))
            # A group gone from its PCO link since (a destroyed webhook) is not written again either.
            gone = newer - fresh.keys()
            newer = gone | (ctx.records.save_groups(again, read_at=reread_at) if again else set())
        events: list[ConflictEvent] = []
        for group_id, result in results.items():
            counts = result.row_counts or {}
            if group_id in newer:
                # Still changing under this page: the newer list stays, and the next run reads it again.
                logger.info(
                    "member list kept changing while merged: left as is", extra={"group_id": group_id}
                )
                tally.add_counts({"skipped": sum(counts.values())})
                continue
            tally.add_counts({**counts, "conflicts": result.conflict_count})
            events.extend(result.conflicts)
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


def _agreed(group: Group) -> list[GroupMember]:
    """The member list as PCO last held it for us: the base a webhook moves (the members themselves for a
    group from before bases existed, as the membership applier reads it)."""
    return list(group.sync.members_base) if group.sync.members_base is not None else list(group.members)


def _with_pco_changes(
    pco: list[GroupMember], read: list[GroupMember], current: list[GroupMember]
) -> list[GroupMember]:
    """PCO's member list as the page read it, with each member PCO's side changed since the page read the
    group (`read` -> `current` agreed lists: a membership webhook's change) as it is now."""
    before = {m.person_id: m for m in read}
    now = {m.person_id: m for m in current}
    merged = {m.person_id: m for m in pco}
    for person_id in before.keys() | now.keys():
        if before.get(person_id) == now.get(person_id):
            continue
        if person_id in now:
            merged[person_id] = now[person_id]
        else:
            merged.pop(person_id, None)
    return list(merged.values())


def _members_read(new: Group | None, group: Group, count: int) -> list[tuple[Group, Group | None]]:
    """The write of a group whose list was read: its merge, with the number of memberships PCO listed
    (what the incremental sync compares with the groups listing's count)."""
    written = new or group
    if written.sync.pco_members_read != count:
        sync = written.sync.model_copy(update={"pco_members_read": count})
        new = written.model_copy(update={"sync": sync})
    return [(new, group)] if new is not None else []
