"""A client nobody here wrote agrees: pypco iterates, writes and survives the sandbox's rate limit."""

from __future__ import annotations

import types
from collections.abc import Iterator

import pypco
import pytest

from local.sandbox.app import Sandbox, SandboxConfig
from local.sandbox.clock import FakeClock
from local.sandbox.server import SandboxServer


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, SandboxServer]]:
    sandbox = Sandbox.create(
        SandboxConfig(app_id="pypco", secret="s3cret", people=230, seed=4), clock=FakeClock()
    )
    with SandboxServer(sandbox) as server:
        yield sandbox, server


def client(server: SandboxServer) -> pypco.PCO:
    return pypco.PCO(application_id="pypco", secret="s3cret", api_base=server.url)


def test_iterate_with_include_emails_returns_every_person_once_with_their_emails(served):
    sandbox, server = served
    seen: dict[str, set[str]] = {}
    for record in client(server).iterate("/people/v2/people", per_page=100, include="emails"):
        person = record["data"]
        assert person["id"] not in seen
        seen[person["id"]] = {e["attributes"]["address"] for e in record["included"] if e["type"] == "Email"}
    assert set(seen) == {p.id for p in sandbox.store.all("Person")}
    for pid, addresses in seen.items():
        assert addresses == {e.attributes["address"] for e in sandbox.store.children("Email", "person", pid)}
    assert any(seen.values())
    assert any(not a for a in seen.values())


def test_post_and_patch_round_trip(served):
    sandbox, server = served
    pco = client(server)
    created = pco.post(
        "/people/v2/people", payload=pco.template("Person", {"first_name": "Zoë", "last_name": "Lê"})
    )
    pid = created["data"]["id"]
    pco.post(f"/people/v2/people/{pid}/emails", payload=pco.template("Email", {"address": "zoe@example.com"}))
    patched = pco.patch(f"/people/v2/people/{pid}", payload=pco.template("Person", {"last_name": "Lê-Smith"}))
    assert patched["data"]["attributes"]["name"] == "Zoë Lê-Smith"
    fetched = pco.get(f"/people/v2/people/{pid}", include="emails")
    assert fetched["included"][0]["attributes"]["address"] == "zoe@example.com"
    assert sandbox.store.get("Person", pid).attributes["last_name"] == "Lê-Smith"
    with pytest.raises(pypco.exceptions.PCORequestException) as raised:
        pco.get("/people/v2/people/1")
    assert raised.value.status_code == 404


def test_pypco_waits_out_429s_from_the_sandbox_rate_limit(served, monkeypatch):
    sandbox, server = served
    sandbox.limiter.limit, sandbox.limiter.period = 5, 1
    # pypco sleeps Retry-After with time.sleep: let that sleep move the sandbox's clock instead.
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        sandbox.clock.sleep(seconds)

    monkeypatch.setattr(pypco.pco, "time", types.SimpleNamespace(sleep=sleep))
    ids = [r["data"]["id"] for r in client(server).iterate("/people/v2/people", per_page=10)]
    assert sorted(ids) == sorted(p.id for p in sandbox.store.all("Person"))  # 23 pages through a 5/1 s limit
    assert slept
    assert all(s == 1 for s in slept)
