"""Faults on demand: latency, error shares, 429 bursts, dropped connections (real socket), slow pages."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import flask
import httpx
import pytest
from werkzeug.serving import make_server

from local.sandbox.clock import FakeClock
from local.sandbox.faults import ConnectionDropped, FaultConfig, FaultInjector, install_faults


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _app(injector: FaultInjector) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/people/v2/people")
    def people() -> flask.Response:
        return flask.jsonify({"data": []})

    @app.get("/people/v2/people/<int:person_id>")
    def person(person_id: int) -> flask.Response:
        return flask.jsonify({"data": {"id": str(person_id)}})

    @app.post("/people/v2/people")
    def create() -> tuple[flask.Response, int]:
        return flask.jsonify({"data": {"id": "1"}}), 201

    @app.get("/_sandbox/health")
    def health() -> flask.Response:
        return flask.jsonify({"ok": True})

    install_faults(app, injector)
    return app


@pytest.fixture
def injector(clock: FakeClock) -> FaultInjector:
    return FaultInjector(FaultConfig(), clock)


@pytest.fixture
def client(injector: FaultInjector) -> flask.testing.FlaskClient:
    return _app(injector).test_client()


def test_given_defaults_then_no_fault_and_no_time_passes(client, clock):
    start = clock.now()
    for _ in range(50):
        assert client.get("/people/v2/people").status_code == 200
    assert clock.now() == start


def test_latency_is_added_to_every_request_through_the_clock(client, injector, clock):
    injector.configure(latency_ms=250)
    start = clock.now()
    client.get("/people/v2/people/1")
    client.post("/people/v2/people")
    assert clock.now() - start == pytest.approx(0.5)


def test_slow_pages_only_slow_list_requests(client, injector, clock):
    injector.configure(slow_page_ms=2000)
    start = clock.now()
    client.get("/people/v2/people/7")
    client.post("/people/v2/people")
    assert clock.now() == start
    client.get("/people/v2/people?per_page=100")
    assert clock.now() - start == pytest.approx(2.0)


def test_error_rate_one_answers_every_request_with_a_pco_error(client, injector):
    injector.configure(error_rate=1.0, error_statuses=(503,))
    response = client.get("/people/v2/people")
    assert response.status_code == 503
    error = response.get_json()["errors"][0]
    assert error["status"] == "503"
    assert error["title"] == "Service Unavailable"


def test_error_rate_share_is_deterministic_for_a_seed(clock):
    def statuses(seed: int) -> list[int]:
        injector = FaultInjector(FaultConfig(error_rate=0.3, seed=seed), clock)
        client = _app(injector).test_client()
        return [client.get("/people/v2/people/1").status_code for _ in range(200)]

    first = statuses(42)
    assert first == statuses(42)
    assert first != statuses(43)
    failures = [s for s in first if s != 200]
    assert set(failures) == {500, 503}
    assert 30 <= len(failures) <= 90  # about 30 % of 200


def test_burst_of_429_hits_exactly_the_next_n_requests(client, injector):
    injector.configure(burst_429=3, burst_retry_after=7)
    responses = [client.get("/people/v2/people") for _ in range(5)]
    assert [r.status_code for r in responses] == [429, 429, 429, 200, 200]
    assert responses[0].headers["Retry-After"] == "7"
    assert responses[0].get_json()["errors"][0]["title"] == "Too Many Requests"


def test_sandbox_paths_are_never_faulted(client, injector):
    injector.configure(error_rate=1.0, burst_429=5, drop_rate=1.0, latency_ms=1000)
    for _ in range(3):
        assert client.get("/_sandbox/health").status_code == 200
    assert injector.state()["burst_429_remaining"] == 5


def test_drop_without_a_socket_raises_connection_dropped(injector):
    app = _app(injector)
    app.testing = True  # let the exception reach the test instead of becoming a 500
    injector.configure(drop_rate=1.0)
    with pytest.raises(ConnectionDropped):
        app.test_client().get("/people/v2/people")


@pytest.fixture
def live_server(injector: FaultInjector) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _app(injector), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def test_given_drop_rate_one_then_a_real_client_sees_the_connection_closed_without_an_answer(
    live_server, injector
):
    with httpx.Client(base_url=live_server, timeout=5) as http:
        assert http.get("/people/v2/people").status_code == 200
        injector.configure(drop_rate=1.0)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            http.get("/people/v2/people")
        # The server survives: the faults endpoint still answers, and turning drops off restores service.
        assert http.post("/_sandbox/faults", json={"drop_rate": 0}).status_code == 200
        assert http.get("/people/v2/people").status_code == 200


def test_drops_follow_the_seed_over_a_real_socket(live_server, injector):
    injector.configure(drop_rate=0.5, seed=7)
    outcomes = []
    with httpx.Client(base_url=live_server, timeout=5) as http:
        for _ in range(12):
            try:
                outcomes.append(http.get("/people/v2/people/1").status_code)
            except (httpx.RemoteProtocolError, httpx.ReadError):
                outcomes.append("dropped")
    assert "dropped" in outcomes
    assert 200 in outcomes
    injector.configure(seed=7)  # same seed, same sequence
    again = []
    with httpx.Client(base_url=live_server, timeout=5) as http:
        for _ in range(12):
            try:
                again.append(http.get("/people/v2/people/1").status_code)
            except (httpx.RemoteProtocolError, httpx.ReadError):
                again.append("dropped")
    assert again == outcomes


def test_faults_endpoint_reads_and_changes_the_config(client, injector):
    assert client.get("/_sandbox/faults").get_json() == {
        **FaultConfig().as_json(),
        "burst_429_remaining": 0,
    }
    response = client.post(
        "/_sandbox/faults", json={"error_rate": 0.25, "error_statuses": [502], "burst_429": 2}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["error_rate"] == 0.25
    assert body["error_statuses"] == [502]
    assert body["burst_429_remaining"] == 2
    assert injector.config.error_statuses == (502,)


def test_faults_endpoint_reset_starts_from_defaults(client, injector):
    injector.configure(latency_ms=100, error_rate=0.5)
    body = client.post("/_sandbox/faults", json={"reset": True, "burst_429": 1}).get_json()
    assert body["latency_ms"] == 0
    assert body["error_rate"] == 0.0
    assert body["burst_429_remaining"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"nonsense": 1},
        {"error_rate": 1.5},
        {"error_rate": "high"},
        {"latency_ms": -1},
        {"latency_ms": 1.5},
        {"burst_retry_after": 0},
        {"error_statuses": [200]},
        {"error_statuses": "500"},
        {"drop_rate": True},
        [1, 2],
    ],
)
def test_faults_endpoint_rejects_bad_fields_with_a_400_json_error(client, injector, body):
    before = injector.state()
    response = client.post("/_sandbox/faults", json=body)
    assert response.status_code == 400
    error = response.get_json()["errors"][0]
    assert error["status"] == "400"
    assert error["detail"]
    assert injector.state() == before


def test_reset_turns_every_fault_off(client, injector, clock):
    injector.configure(latency_ms=10, error_rate=1.0, burst_429=4, drop_rate=1.0, slow_page_ms=10)
    injector.reset()
    start = clock.now()
    assert client.get("/people/v2/people").status_code == 200
    assert clock.now() == start
