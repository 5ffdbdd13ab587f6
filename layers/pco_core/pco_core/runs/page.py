"""What the sync page Lambda calls: its event, the deployed wiring, and the table of run domains.

Each run domain is a plug-in of the engine's page loop: the pull domains read PCO listings, the push
domains walk local records.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pco_core.clock import utc_now
from pco_core.engine.page import DEFAULT_PAGE_SECONDS, Domains, PageDeps, run_page
from pco_core.pull.audit import AuditHouseholds, AuditPeople
from pco_core.pull.contacts import PullAddressChanges, PullEmailChanges, PullPhoneChanges
from pco_core.pull.families import PullFamilies
from pco_core.pull.groups import PullGroups
from pco_core.pull.memberships import PullMembershipChanges, PullMemberships
from pco_core.pull.people import PullPeople, PullPeopleChanges
from pco_core.push.families import PushFamilies
from pco_core.push.memberships import PushMemberships
from pco_core.push.people import PushPeople
from pco_core.runstate import PageResult
from pco_core.settings import SyncPageEnv

DOMAINS: Domains = {
    "people": PullPeople(),
    "people_changes": PullPeopleChanges(),
    "email_changes": PullEmailChanges(),
    "phone_changes": PullPhoneChanges(),
    "address_changes": PullAddressChanges(),
    "families": PullFamilies(),
    "groups": PullGroups(),
    "memberships": PullMemberships(),
    "membership_changes": PullMembershipChanges(),
    "audit_people": AuditPeople(),
    "audit_households": AuditHouseholds(),
    "push_people": PushPeople(),
    "push_families": PushFamilies(),
    "push_memberships": PushMemberships(),
}


class PageRequest(BaseModel):
    """The state machine's input: `{"run_id", "max_wait_seconds"}`; other keys (e.g. `page`) are ignored."""

    model_config = ConfigDict(extra="ignore")

    run_id: str = Field(min_length=1)
    max_wait_seconds: int = Field(ge=0)


def page_deps_from_env(env: SyncPageEnv) -> PageDeps:
    """The deployed wiring: DynamoDB stores, the PCO client with the Secrets Manager credentials."""
    # Imported here so the page logic (and its tests) never load boto3 or open a connection.
    from pco_core.pco.client import PcoClient
    from pco_core.store.audit import AuditStore
    from pco_core.store.records import RecordStore
    from pco_core.store.runs import RunStore
    from pco_core.store.secrets import load_pco_credentials

    credentials = load_pco_credentials(env.pco_secret_arn)
    return PageDeps(
        pco=PcoClient(env.pco_base_url, credentials.app_id, credentials.secret.get_secret_value()),
        records=RecordStore(env.records_table),
        runs=RunStore(env.state_table),
        clock=utc_now,
        lease_seconds=env.run_lease_seconds,
        domains=DOMAINS,
        audit=AuditStore(env.state_table),
        policy=env.conflict_policy,
    )


def run_sync_page(
    request: PageRequest, deps: PageDeps, *, page_seconds: int = DEFAULT_PAGE_SECONDS
) -> PageResult:
    """One page of the run; `page_seconds` is the invocation's remaining time (the Lambda context's)."""
    return run_page(request.run_id, request.max_wait_seconds, deps, page_seconds=page_seconds)
