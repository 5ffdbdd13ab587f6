"""/api/webhooks: the last deliveries and the dead-letter count on moto; the replay against a stubbed SQS
client, because moto (5.2) does not implement message move tasks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from pco_core.api import create_app
from pco_core.api.services import AdminServices
from pco_core.records import Family, Person
from pco_core.store.deliveries import DeliveryLog
from pco_core.store.queue import DeadLetterQueue
from tests.unit.api.events import ADMIN, VOLUNTEER, http_event
from tests.unit.fakes import FakeRecords
from tests.unit.store.tables import REGION

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/webhook-dlq"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:webhook-dlq"


def app_for(log: DeliveryLog | None, dead_letters: DeadLetterQueue, records: Any = None) -> Any:
    services = AdminServices(
        runs=None,  # type: ignore[arg-type]
        records=records if records is not None else FakeRecords(),
        role_permissions={"TECH_ADMIN": ["pco.manage"]},
        connection=None,  # type: ignore[arg-type]
        deliveries=log,  # type: ignore[arg-type]
        dead_letters=dead_letters,
    )
    app = create_app(lambda: services)

    def call(method: str, path: str, claims: dict[str, Any] = ADMIN) -> tuple[int, Any]:
        answer = app.resolve(http_event(method, path, claims=claims), None)  # type: ignore[arg-type]
        return answer["statusCode"], json.loads(answer["body"])

    return call


# ---------------------------------------------------------------- deliveries and count (moto)


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def dlq_url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName="webhook-dlq")["QueueUrl"])


def log_deliveries(log: DeliveryLog, count: int) -> None:
    for n in range(count):
        received = T0 + timedelta(minutes=n)
        log.begin(f"d-{n:03}", "people.v2.events.person.updated", received)
        log.mark_queued(f"d-{n:03}")
        # Applied a little later, in the same order they came.
        log.finish(
            f"d-{n:03}",
            "people.v2.events.person.updated",
            "stale" if n % 7 == 0 else "applied",
            "ok",
            received + timedelta(seconds=3),
            resource=f"Person {100 + n}",
        )


def test_given_60_deliveries_and_3_dead_letters_then_the_last_50_newest_first_and_the_count(
    state_table: str, dynamodb: Any, sqs: Any, dlq_url: str
) -> None:
    # Given 60 applied deliveries and 3 messages in the dead-letter queue
    log = DeliveryLog(state_table, client=dynamodb)
    log_deliveries(log, 60)
    for n in range(3):
        sqs.send_message(QueueUrl=dlq_url, MessageBody=f'{{"delivery_id": "dead-{n}"}}')
    call = app_for(log, DeadLetterQueue(dlq_url, client=sqs))
    # When the page asks for the deliveries
    status, body = call("GET", "/api/webhooks/deliveries")
    # Then the 50 most recent, newest first, each as received (not applied), and the dead-letter count
    assert status == 200
    assert body["dead_letter_count"] == 3
    deliveries = body["deliveries"]
    assert [d["id"] for d in deliveries] == [f"d-{n:03}" for n in range(59, 9, -1)]
    assert deliveries[0] == {
        "id": "d-059",
        "event": "people.v2.events.person.updated",
        "resource": "Person 159",
        "name": None,  # nobody here is linked to PCO person 159
        "received_at": (T0 + timedelta(minutes=59)).isoformat(),
        "outcome": "applied",
    }
    assert deliveries[3]["id"] == "d-056"
    assert deliveries[3]["outcome"] == "stale"  # 56 % 7 == 0


def test_given_deliveries_about_linked_records_then_each_carries_the_records_name(
    state_table: str, dynamodb: Any, sqs: Any, dlq_url: str
) -> None:
    log = DeliveryLog(state_table, client=dynamodb)
    for n, resource in enumerate(["Person 101", "Household 7", "Email 55", "Person 999"]):
        log.begin(f"d-{n}", "people.v2.events.person.updated", T0 + timedelta(minutes=n))
        log.mark_queued(f"d-{n}")
        log.finish(f"d-{n}", "people.v2.events.person.updated", "applied", "ok", T0, resource=resource)
    records = FakeRecords()
    records.add(
        Person(id="p1", pco_id="101", first_name="Ada", last_name="Lovelace", updated_at=T0),
        Family(id="f1", pco_id="7", name="Lovelace household", updated_at=T0),
    )
    call = app_for(log, DeadLetterQueue(dlq_url, client=sqs), records)

    status, body = call("GET", "/api/webhooks/deliveries")

    assert status == 200
    named = {d["resource"]: d["name"] for d in body["deliveries"]}
    assert named == {
        "Person 101": "Ada Lovelace",
        "Household 7": "Lovelace household",
        "Email 55": None,  # a contact's id says nothing of its person
        "Person 999": None,  # not linked here
    }


def test_given_no_deliveries_then_an_empty_list_and_zero(
    state_table: str, dynamodb: Any, sqs: Any, dlq_url: str
) -> None:
    call = app_for(DeliveryLog(state_table, client=dynamodb), DeadLetterQueue(dlq_url, client=sqs))
    assert call("GET", "/api/webhooks/deliveries") == (200, {"deliveries": [], "dead_letter_count": 0})


def test_given_a_caller_without_pco_manage_then_403_and_nothing_is_read() -> None:
    call = app_for(None, None)  # type: ignore[arg-type]
    for method, path in [("GET", "/api/webhooks/deliveries"), ("POST", "/api/webhooks/replay")]:
        status, _ = call(method, path, claims=VOLUNTEER)
        assert status == 403


# ---------------------------------------------------------------- replay (stubbed SQS client)


@pytest.fixture
def stubbed() -> Iterator[tuple[Stubber, DeadLetterQueue]]:
    client = boto3.client(
        "sqs", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stub:
        yield stub, DeadLetterQueue(DLQ_URL, client=client)
        stub.assert_no_pending_responses()


def expect_attributes(stub: Stubber, waiting: int) -> None:
    stub.add_response(
        "get_queue_attributes",
        {"Attributes": {"ApproximateNumberOfMessages": str(waiting), "QueueArn": DLQ_ARN}},
        {"QueueUrl": DLQ_URL, "AttributeNames": ["ApproximateNumberOfMessages", "QueueArn"]},
    )


def expect_tasks(stub: Stubber, *statuses: str) -> None:
    results = [
        {"TaskHandle": f"h-{n}", "Status": s, "SourceArn": DLQ_ARN, "ApproximateNumberOfMessagesMoved": 1}
        for n, s in enumerate(statuses)
    ]
    stub.add_response(
        "list_message_move_tasks", {"Results": results}, {"SourceArn": DLQ_ARN, "MaxResults": 1}
    )


def test_given_4_dead_letters_when_replaying_then_a_move_back_to_the_source_queue_starts(stubbed) -> None:
    stub, dead_letters = stubbed
    # Given 4 dead letters and the last replay finished
    expect_attributes(stub, 4)
    expect_tasks(stub, "COMPLETED")
    # Then exactly one move task starts from the dead-letter queue, without a destination (= the source)
    stub.add_response("start_message_move_task", {"TaskHandle": "h-new"}, {"SourceArn": DLQ_ARN})
    call = app_for(None, dead_letters)
    assert call("POST", "/api/webhooks/replay") == (202, {"moving": 4})


def test_given_a_replay_running_when_replaying_again_then_409_and_no_second_task(stubbed) -> None:
    stub, dead_letters = stubbed
    expect_attributes(stub, 2)
    expect_tasks(stub, "RUNNING")
    call = app_for(None, dead_letters)
    status, body = call("POST", "/api/webhooks/replay")
    assert (status, body["message"]) == (409, "a replay of the dead letters is already running")


def test_given_two_replays_racing_when_sqs_refuses_the_second_then_409(stubbed) -> None:
    stub, dead_letters = stubbed
    expect_attributes(stub, 2)
    expect_tasks(stub)
    stub.add_client_error("start_message_move_task", "UnsupportedOperation", "a task is active")
    expect_tasks(stub, "RUNNING")
    status, _ = app_for(None, dead_letters)("POST", "/api/webhooks/replay")
    assert status == 409


def test_given_sqs_refuses_the_replay_for_another_reason_then_502_naming_it(stubbed) -> None:
    stub, dead_letters = stubbed
    expect_attributes(stub, 2)
    expect_tasks(stub)
    stub.add_client_error("start_message_move_task", "AccessDenied", "not allowed")
    expect_tasks(stub, "FAILED")
    status, body = app_for(None, dead_letters)("POST", "/api/webhooks/replay")
    assert status == 502
    assert body["message"].startswith("RetriableError: the dead-letter replay could not be started")
    assert "AccessDenied" in body["message"]
