"""PCO Webhooks in the sandbox: the delivery envelope, signatures, retries, 410s, the subscriptions API."""

from __future__ import annotations

import hmac
import itertools
import json
import threading
from typing import Any

import flask
import pytest
from werkzeug.serving import make_server

from local.sandbox.clock import FakeClock, iso
from local.sandbox.webhooks import WebhookHub, retry_delay, sign, webhooks_blueprint

PERSON_UPDATED = "people.v2.events.person.updated"
PERSON_DESTROYED = "people.v2.events.person.destroyed"
PERSON = {
    "type": "Person",
    "id": "42",
    "attributes": {"first_name": "Ada", "last_name": "Lovelace"},
    "relationships": {"primary_campus": {"data": None}},
    "links": {"self": "https://api.planningcenteronline.com/people/v2/people/42"},
}


class Receiver:
    """A scripted webhook receiver: answers the statuses given, in order, then 200."""

    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers)
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.received.append((url, body, headers))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _hub(clock: FakeClock, receiver: Receiver, **kwargs: Any) -> WebhookHub:
    return WebhookHub(clock, sender=receiver, **kwargs)


def _payload_of(body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    envelope = json.loads(body)
    delivery = envelope["data"][0]
    payload = delivery["attributes"]["payload"]
    assert isinstance(payload, str)
    return delivery, json.loads(payload)


def test_envelope_shape_and_payload_is_a_json_string_of_the_document(clock):
    receiver = Receiver()
    hub = _hub(clock, receiver)
    subscription = hub.create_subscription(PERSON_UPDATED, "https://church.example/pco")
    included = [{"type": "Email", "id": "9", "attributes": {"address": "ada@example.org"}}]
    [delivery_id] = hub.publish(PERSON_UPDATED, PERSON, included)
    assert hub.deliver_due() == 1

    url, body, headers = receiver.received[0]
    assert url == "https://church.example/pco"
    delivery, document = _payload_of(body)
    assert delivery["id"] == delivery_id
    assert delivery["type"] == "EventDelivery"
    assert delivery["attributes"]["name"] == PERSON_UPDATED
    assert delivery["attributes"]["attempt"] == 1
    assert delivery["relationships"] == {"organization": {"data": {"type": "Organization", "id": "1"}}}
    assert document["data"] == PERSON
    assert document["included"] == included
    assert document["meta"]["event_time"] == iso(clock.now())
    assert document["meta"]["idempotency_token"]
    assert document["meta"]["parent"] == {"id": "1", "type": "Organization"}
    assert headers["Content-Type"] == "application/json"
    assert headers["X-PCO-Webhooks-Name"] == PERSON_UPDATED
    assert headers["X-PCO-Webhooks-Event"] == delivery_id
    assert hmac.compare_digest(
        headers["X-PCO-Webhooks-Authenticity"], sign(subscription.authenticity_secret, body)
    )


def test_signature_is_over_the_raw_bytes_and_fails_if_one_byte_changes(clock):
    receiver = Receiver()
    hub = _hub(clock, receiver)
    subscription = hub.create_subscription(PERSON_UPDATED, "https://church.example/pco")
    hub.publish(PERSON_UPDATED, PERSON)
    hub.deliver_due()
    _, body, headers = receiver.received[0]
    signature = headers["X-PCO-Webhooks-Authenticity"]
    assert len(signature) == 64
    assert sign(subscription.authenticity_secret, body) == signature
    for index in (0, len(body) // 2, len(body) - 1):
        tampered = bytearray(body)
        tampered[index] ^= 0x01
        assert sign(subscription.authenticity_secret, bytes(tampered)) != signature
    # Re-encoding the same JSON (as API Gateway might) changes the bytes and so the signature.
    assert (
        sign(subscription.authenticity_secret, json.dumps(json.loads(body), indent=1).encode()) != signature
    )
    assert sign("another secret", body) != signature


def test_sign_matches_an_independent_hmac(clock):
    import hashlib

    assert sign("abc", b'{"x":1}') == hmac.new(b"abc", b'{"x":1}', hashlib.sha256).hexdigest()


def test_destroyed_event_has_no_attributes(clock):
    receiver = Receiver()
    hub = _hub(clock, receiver)
    hub.create_subscription(PERSON_DESTROYED, "https://church.example/pco")
    hub.publish(PERSON_DESTROYED, PERSON)
    hub.deliver_due()
    _, document = _payload_of(receiver.received[0][1])
    assert "attributes" not in document["data"]
    assert document["data"]["id"] == "42"
    assert document["data"]["type"] == "Person"
    assert "relationships" in document["data"]
    assert "links" in document["data"]
    assert "attributes" in PERSON  # the caller's resource is untouched


def test_only_active_subscriptions_to_that_event_receive_it(clock):
    receiver = Receiver()
    hub = _hub(clock, receiver)
    hub.create_subscription(PERSON_UPDATED, "https://a.example/hook")
    hub.create_subscription(PERSON_UPDATED, "https://b.example/hook", active=False)
    hub.create_subscription(PERSON_DESTROYED, "https://c.example/hook")
    hub.create_subscription(PERSON_UPDATED, "https://d.example/hook")
    assert len(hub.publish(PERSON_UPDATED, PERSON)) == 2
    assert hub.deliver_due() == 2
    assert sorted(url for url, _, _ in receiver.received) == [
        "https://a.example/hook",
        "https://d.example/hook",
    ]


def test_retry_with_backoff_on_500_then_success(clock):
    receiver = Receiver(500, ConnectionRefusedError("refused"), 503)
    hub = _hub(clock, receiver)
    hub.create_subscription(PERSON_UPDATED, "https://church.example/pco")
    hub.publish(PERSON_UPDATED, PERSON)
    start = clock.now()

    assert hub.deliver_due() == 1  # attempt 1: 500
    assert hub.next_due_at() == start + 30
    clock.advance(29)
    assert hub.deliver_due() == 0  # not yet due
    clock.advance(1)
    assert hub.deliver_due() == 1  # attempt 2: connection refused
    assert hub.next_due_at() == start + 30 + 60
    clock.advance(60)
    assert hub.deliver_due() == 1  # attempt 3: 503
    clock.advance(120)
    assert hub.deliver_due() == 1  # attempt 4: 200
    assert hub.pending == 0

    attempts = hub.deliveries
    assert [a.attempt for a in attempts] == [1, 2, 3, 4]
    assert [a.status for a in attempts] == [500, None, 503, 200]
    assert attempts[1].error is not None
    assert "refused" in attempts[1].error
    payloads = [_payload_of(a.body) for a in attempts]
    assert [d["attributes"]["attempt"] for d, _ in payloads] == [1, 2, 3, 4]
    assert len({d["id"] for d, _ in payloads}) == 1  # the same delivery
    assert len({p["meta"]["idempotency_token"] for _, p in payloads}) == 1  # the same event
    for attempt in attempts:  # each attempt's body is signed on its own
        secret = hub.subscriptions()[0].authenticity_secret
        assert attempt.headers["X-PCO-Webhooks-Authenticity"] == sign(secret, attempt.body)


def test_retry_delays_grow_and_cap_at_a_day():
    delays = [retry_delay(n) for n in range(1, 16)]
    assert delays[:4] == [30, 60, 120, 240]
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert delays[-1] == 86_400
    # 16 attempts span about 4.4 days (PCO deactivates after ~5.4 days; its exact schedule is unpublished).
    assert 4 * 86_400 < sum(delays) < 5 * 86_400


def test_410_deactivates_the_subscription_and_stops_retries(clock):
    receiver = Receiver(410)
    hub = _hub(clock, receiver)
    subscription = hub.create_subscription(PERSON_UPDATED, "https://church.example/pco")
    hub.publish(PERSON_UPDATED, PERSON)
    hub.publish(PERSON_UPDATED, PERSON)
    clock.advance(5)
    assert hub.deliver_due() == 1  # the first answer 410 drops the second delivery as well
    assert hub.get_subscription(subscription.id).active is False
    assert hub.get_subscription(subscription.id).updated_at == clock.now()
    assert hub.pending == 0
    clock.advance(10 * 86_400)
    assert hub.deliver_due() == 0
    assert hub.publish(PERSON_UPDATED, PERSON) == []


def test_max_attempts_then_gives_up_and_deactivates(clock):
    receiver = Receiver(*([500] * 10))
    hub = _hub(clock, receiver, max_attempts=4)
    subscription = hub.create_subscription(PERSON_UPDATED, "https://church.example/pco")
    hub.publish(PERSON_UPDATED, PERSON)
    for _ in range(10):
        hub.deliver_due()
        clock.advance(86_400)
    assert [a.attempt for a in hub.deliveries] == [1, 2, 3, 4]
    assert hub.pending == 0
    assert hub.get_subscription(subscription.id).active is False


def test_default_max_attempts_is_16(clock):
    hub = _hub(clock, Receiver(*([502] * 20)))
    hub.create_subscription(PERSON_UPDATED, "https://church.example/pco")
    hub.publish(PERSON_UPDATED, PERSON)
    for _ in range(30):
        hub.deliver_due()
        clock.advance(86_400)
    assert len(hub.deliveries) == 16


def test_deleted_subscription_gets_no_pending_delivery(clock):
    receiver = Receiver()
    hub = _hub(clock, receiver)
    subscription = hub.create_subscription(PERSON_UPDATED, "https://church.example/pco")
    hub.publish(PERSON_UPDATED, PERSON)
    hub.delete_subscription(subscription.id)
    assert hub.deliver_due() == 0
    assert receiver.received == []


def test_webhook_secret_overrides_every_subscription_secret(clock):
    receiver = Receiver()
    hub = _hub(clock, receiver, webhook_secret="deployment-secret")
    first = hub.create_subscription(PERSON_UPDATED, "https://a.example/hook")
    second = hub.create_subscription(PERSON_DESTROYED, "https://a.example/hook")
    assert first.authenticity_secret == second.authenticity_secret == "deployment-secret"
    assert hub.rotate_secret(first.id).authenticity_secret == "deployment-secret"
    hub.publish(PERSON_UPDATED, PERSON)
    hub.deliver_due()
    _, body, headers = receiver.received[0]
    assert headers["X-PCO-Webhooks-Authenticity"] == sign("deployment-secret", body)


def test_random_secrets_are_64_hex_and_distinct(clock):
    hub = _hub(clock, Receiver())
    secrets_seen = {
        hub.create_subscription(PERSON_UPDATED, f"https://a.example/{n}").authenticity_secret
        for n in range(5)
    }
    assert len(secrets_seen) == 5
    for secret in secrets_seen:
        assert len(secret) == 64
        int(secret, 16)


def test_start_and_stop_deliver_in_the_background_and_join_cleanly(clock):
    delivered = threading.Event()

    def sender(url: str, body: bytes, headers: dict[str, str]) -> int:
        delivered.set()
        return 200

    hub = WebhookHub(clock, sender=sender)
    hub.create_subscription(PERSON_UPDATED, "https://church.example/pco")
    hub.publish(PERSON_UPDATED, PERSON)
    hub.start(interval=0.01)
    try:
        assert delivered.wait(timeout=5)
    finally:
        hub.stop()
    assert hub._thread is None
    assert [a.status for a in hub.deliveries] == [200]


def test_default_sender_posts_over_http_to_a_real_receiver(clock):
    received: list[tuple[bytes, dict[str, str]]] = []
    receiver_app = flask.Flask("receiver")

    @receiver_app.post("/hook")
    def hook() -> tuple[str, int]:
        received.append((flask.request.get_data(), dict(flask.request.headers)))
        return "", 200

    server = make_server("127.0.0.1", 0, receiver_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        hub = WebhookHub(clock)
        subscription = hub.create_subscription(PERSON_UPDATED, f"http://127.0.0.1:{server.server_port}/hook")
        hub.publish(PERSON_UPDATED, PERSON)
        assert hub.deliver_due() == 1
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
    body, headers = received[0]
    assert headers["X-Pco-Webhooks-Authenticity"] == sign(subscription.authenticity_secret, body)
    assert hub.deliveries[0].status == 200


def test_default_sender_connection_refused_is_retried(clock):
    server = make_server("127.0.0.1", 0, flask.Flask("closed"))
    port = server.server_port
    server.server_close()  # nothing listens on the port now
    hub = WebhookHub(clock)
    hub.create_subscription(PERSON_UPDATED, f"http://127.0.0.1:{port}/hook")
    hub.publish(PERSON_UPDATED, PERSON)
    assert hub.deliver_due() == 1
    assert hub.deliveries[0].status is None
    assert hub.pending == 1


# The /webhooks/v2 API -----------------------------------------------------------------------------------


@pytest.fixture
def hub(clock: FakeClock) -> WebhookHub:
    return WebhookHub(clock, sender=Receiver())


@pytest.fixture
def api(hub: WebhookHub) -> flask.testing.FlaskClient:
    app = flask.Flask(__name__)
    app.register_blueprint(webhooks_blueprint(hub))
    return app.test_client()


def _create(api, name: str = PERSON_UPDATED, url: str = "https://church.example/pco", **extra: Any):
    body = {"data": {"type": "WebhookSubscription", "attributes": {"name": name, "url": url, **extra}}}
    return api.post("/webhooks/v2/webhook_subscriptions", json=body)


@pytest.mark.parametrize("collection", ["webhook_subscriptions", "subscriptions"])
def test_subscriptions_crud_on_both_paths(api, hub, clock, collection):
    created = api.post(
        f"/webhooks/v2/{collection}",
        json={
            "data": {
                "type": "WebhookSubscription",
                "attributes": {"name": PERSON_UPDATED, "url": "https://a.example/h"},
            }
        },
    )
    assert created.status_code == 201
    resource = created.get_json()["data"]
    assert resource["type"] == "WebhookSubscription"
    attributes = resource["attributes"]
    assert attributes["name"] == PERSON_UPDATED
    assert attributes["url"] == "https://a.example/h"
    assert attributes["active"] is True
    assert len(attributes["authenticity_secret"]) == 64
    assert attributes["created_at"] == attributes["updated_at"] == iso(clock.now())
    subscription_id = resource["id"]
    item = f"/webhooks/v2/{collection}/{subscription_id}"

    assert api.get(item).get_json()["data"] == resource

    clock.advance(60)
    patched = api.patch(item, json={"data": {"type": "WebhookSubscription", "attributes": {"active": False}}})
    assert patched.status_code == 200
    assert patched.get_json()["data"]["attributes"]["active"] is False
    assert patched.get_json()["data"]["attributes"]["updated_at"] == iso(clock.now())
    assert hub.get_subscription(subscription_id).active is False

    listed = api.get(f"/webhooks/v2/{collection}").get_json()
    assert [r["id"] for r in listed["data"]] == [subscription_id]
    assert listed["meta"]["total_count"] == 1

    assert api.delete(item).status_code == 204
    gone = api.get(item)
    assert gone.status_code == 404
    assert gone.get_json()["errors"][0]["status"] == "404"
    assert api.delete(item).status_code == 404


def test_rotate_secret_changes_the_secret_and_signs_with_the_new_one(api, hub):
    resource = _create(api).get_json()["data"]
    old = resource["attributes"]["authenticity_secret"]
    rotated = api.post(f"/webhooks/v2/subscriptions/{resource['id']}/rotate_secret")
    assert rotated.status_code == 200
    new = rotated.get_json()["data"]["attributes"]["authenticity_secret"]
    assert new != old
    assert len(new) == 64
    hub.publish(PERSON_UPDATED, PERSON)
    hub.deliver_due()
    attempt = hub.deliveries[0]
    assert attempt.headers["X-PCO-Webhooks-Authenticity"] == sign(new, attempt.body)
    assert api.post("/webhooks/v2/subscriptions/999/rotate_secret").status_code == 404


def test_list_is_paged_like_pco(api):
    for n in range(30):
        assert _create(api, url=f"https://church.example/{n}").status_code == 201
    first = api.get("/webhooks/v2/webhook_subscriptions").get_json()
    assert len(first["data"]) == 25
    assert first["meta"]["total_count"] == 30
    assert first["meta"]["count"] == 25
    assert first["meta"]["next"] == {"offset": 25}
    assert first["links"]["next"].startswith("http://localhost/webhooks/v2/webhook_subscriptions?")
    assert "offset=25" in first["links"]["next"]
    second = api.get(first["links"]["next"]).get_json()
    assert [r["id"] for r in second["data"]] == [str(n) for n in range(26, 31)]
    assert "next" not in second["links"]
    assert "next" not in second["meta"]
    assert second["meta"]["prev"] == {"offset": 0}
    small = api.get("/webhooks/v2/webhook_subscriptions?per_page=1000").get_json()
    assert len(small["data"]) == 30  # per_page is capped at 100
    assert api.get("/webhooks/v2/webhook_subscriptions?per_page=ten").status_code == 400


def test_list_filters_by_name(api):
    _create(api, name=PERSON_UPDATED)
    _create(api, name=PERSON_DESTROYED)
    listed = api.get(f"/webhooks/v2/subscriptions?where[name]={PERSON_DESTROYED}").get_json()
    assert [r["attributes"]["name"] for r in listed["data"]] == [PERSON_DESTROYED]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"data": {"type": "WebhookSubscription", "attributes": {"url": "https://a.example"}}}, 422),
        ({"data": {"type": "WebhookSubscription", "attributes": {"name": PERSON_UPDATED}}}, 422),
        (
            {
                "data": {
                    "type": "WebhookSubscription",
                    "attributes": {"name": PERSON_UPDATED, "url": "ftp://x"},
                }
            },
            422,
        ),
        (
            {
                "data": {
                    "type": "WebhookSubscription",
                    "attributes": {"name": PERSON_UPDATED, "url": "https://a", "active": "yes"},
                }
            },
            422,
        ),
        (
            {
                "data": {
                    "type": "WebhookSubscription",
                    "attributes": {"name": "x", "url": "https://a", "authenticity_secret": "s"},
                }
            },
            422,
        ),
        ({"data": {"type": "Person", "attributes": {"name": PERSON_UPDATED, "url": "https://a"}}}, 400),
        ({"nothing": True}, 400),
        ([], 400),
    ],
)
def test_create_rejects_bad_bodies_with_pco_errors(api, hub, body, status):
    response = api.post("/webhooks/v2/webhook_subscriptions", json=body)
    assert response.status_code == status
    assert response.get_json()["errors"][0]["status"] == str(status)
    assert hub.subscriptions() == []


def test_duplicate_name_and_url_is_refused(api):
    assert _create(api).status_code == 201
    assert _create(api).status_code == 422
    assert _create(api, url="https://other.example/pco").status_code == 201


def test_patch_cannot_write_the_secret_or_timestamps(api, hub):
    resource = _create(api).get_json()["data"]
    for name in ("authenticity_secret", "created_at"):
        response = api.patch(
            f"/webhooks/v2/webhook_subscriptions/{resource['id']}",
            json={"data": {"type": "WebhookSubscription", "attributes": {name: "x"}}},
        )
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["title"] == "Forbidden Attribute"
    assert (
        hub.get_subscription(resource["id"]).authenticity_secret
        == resource["attributes"]["authenticity_secret"]
    )
    missing = api.patch(
        "/webhooks/v2/webhook_subscriptions/999", json={"data": {"attributes": {"active": False}}}
    )
    assert missing.status_code == 404


def test_api_with_webhook_secret_override_shows_it(clock):
    hub = WebhookHub(clock, webhook_secret="one-secret-for-the-deployment", sender=Receiver())
    app = flask.Flask(__name__)
    app.register_blueprint(webhooks_blueprint(hub))
    response = _create(app.test_client())
    assert response.get_json()["data"]["attributes"]["authenticity_secret"] == "one-secret-for-the-deployment"
