"""The sandbox's PCO rate limit: windows, per-credential isolation, deep offsets, headers, 429 bodies."""

from __future__ import annotations

import threading

import flask
import pytest

from local.sandbox.clock import FakeClock
from local.sandbox.ratelimit import (
    COUNT_HEADER,
    LIMIT_HEADER,
    PERIOD_HEADER,
    RateDecision,
    RateLimiter,
    install_rate_limit,
)


def _credential_of(request: flask.Request) -> str | None:
    auth = request.authorization
    if auth is None or auth.password != "secret":
        return None
    return auth.username


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(clock)


@pytest.fixture
def client(limiter: RateLimiter) -> flask.testing.FlaskClient:
    app = flask.Flask(__name__)

    @app.get("/people/v2/people")
    def people() -> flask.Response:
        return flask.jsonify({"data": []})

    @app.get("/boom")
    def boom() -> flask.Response:
        flask.abort(500)

    @app.get("/crash")
    def crash() -> flask.Response:
        raise RuntimeError("unhandled")

    @app.get("/_sandbox/health")
    def health() -> flask.Response:
        return flask.jsonify({"ok": True})

    install_rate_limit(app, limiter, _credential_of)
    return app.test_client()


def _get(client: flask.testing.FlaskClient, path: str = "/people/v2/people", user: str = "app1"):
    return client.get(path, auth=(user, "secret"))


def test_given_a_fresh_window_when_100_requests_then_all_pass_and_the_101st_is_refused(client, clock):
    for n in range(1, 101):
        response = _get(client)
        assert response.status_code == 200, n
        assert response.headers[COUNT_HEADER] == str(n)
    clock.advance(7.2)
    refused = _get(client)
    assert refused.status_code == 429
    assert refused.headers[COUNT_HEADER] == "101"
    # The window opened at t=0 and lasts 20 s; 7.2 s in, it frees in 12.8 s -> 13 whole seconds.
    assert refused.headers["Retry-After"] == "13"
    # PCO's 429 body as developers#1449 quotes it (no `status`).
    assert refused.get_json() == {
        "errors": [
            {
                "code": "429",
                "title": "Too Many Requests",
                "detail": "Rate limit exceeded: 101 of 100 requests per 20 seconds",
            }
        ]
    }


def test_given_refused_requests_then_they_count_above_the_limit_as_pco_reports(client):
    for _ in range(118):
        last = _get(client)
    assert last.status_code == 429
    assert last.headers[COUNT_HEADER] == "118"
    assert "118 of 100 requests per 20 seconds" in last.get_json()["errors"][0]["detail"]


def test_given_a_client_honouring_retry_after_then_it_gets_through_after_waiting(client, clock):
    for _ in range(100):
        _get(client)
    for _ in range(30):  # a client that keeps hammering while refused
        refused = _get(client)
        assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    clock.advance(retry_after)
    response = _get(client)
    assert response.status_code == 200
    assert response.headers[COUNT_HEADER] == "1"


def test_given_the_window_almost_over_when_refused_then_retry_after_is_at_least_one(limiter, clock):
    for _ in range(100):
        limiter.hit("app1")
    clock.advance(19.99)
    decision = limiter.hit("app1")
    assert not decision.allowed
    assert decision.retry_after == 1
    clock.advance(0.01)  # exactly at the window's end a new window opens
    assert limiter.hit("app1").allowed


def test_window_boundary_is_20_seconds_from_the_first_request(limiter, clock):
    clock.advance(5)
    for _ in range(100):
        assert limiter.hit("app1").allowed
    clock.advance(19.5)  # the window opened at the first request, 5 s after the clock's start
    assert not limiter.hit("app1").allowed
    clock.advance(0.5)
    assert limiter.hit("app1") == RateDecision(
        allowed=True, limit=100, period=20, count=1, retry_after=0, reported_limit=100
    )


def test_given_one_credential_exhausted_then_another_is_unaffected(client):
    for _ in range(101):
        _get(client, user="app1")
    assert _get(client, user="app1").status_code == 429
    other = _get(client, user="app2")
    assert other.status_code == 200
    assert other.headers[COUNT_HEADER] == "1"


def test_given_deep_offset_then_10_are_allowed_while_the_headers_say_100(client):
    # As reported in developers#1449 and #1450: enforced 10 / 20 s past offset 30,000, headers say 100.
    for n in range(1, 11):
        response = _get(client, path="/people/v2/people?offset=30100")
        assert response.status_code == 200, n
        assert response.headers[LIMIT_HEADER] == "100"
        assert response.headers[COUNT_HEADER] == str(n)
    refused = _get(client, path="/people/v2/people?offset=30100")
    assert refused.status_code == 429
    assert refused.headers[LIMIT_HEADER] == "100"
    assert (
        refused.get_json()["errors"][0]["detail"] == "Rate limit exceeded: 11 of 10 requests per 20 seconds"
    )
    # Shallow requests still have the normal budget left in the same window.
    shallow = _get(client, path="/people/v2/people?offset=30000")
    assert shallow.status_code == 200
    assert shallow.headers[LIMIT_HEADER] == "100"
    assert shallow.headers[COUNT_HEADER] == "12"


def test_deep_offset_limit_threshold_and_honest_headers_are_configurable(clock):
    limiter = RateLimiter(
        clock, deep_offset_limit=75, deep_offset_threshold=1000, deep_offset_honest_headers=True
    )
    decisions = [limiter.hit("app1", offset=1001) for _ in range(76)]
    assert all(d.allowed for d in decisions[:75])
    assert not decisions[75].allowed
    assert {d.reported_limit for d in decisions} == {75}
    assert limiter.hit("app2", offset=1000).reported_limit == 100


def test_headers_on_every_counted_response_including_errors(client):
    for path, status in (("/people/v2/people", 200), ("/boom", 500), ("/crash", 500), ("/nowhere", 404)):
        response = _get(client, path=path)
        assert response.status_code == status, path
        assert response.headers[LIMIT_HEADER] == "100"
        assert response.headers[PERIOD_HEADER] == "20"
        assert response.headers[COUNT_HEADER].isdigit()
    assert _get(client).headers[COUNT_HEADER] == "5"


def test_requests_without_a_valid_credential_are_not_counted(client):
    assert "X-PCO-API-Request-Rate-Count" not in client.get("/people/v2/people").headers
    assert COUNT_HEADER not in client.get("/people/v2/people", auth=("app1", "wrong")).headers
    assert _get(client).headers[COUNT_HEADER] == "1"


def test_sandbox_paths_are_exempt(client):
    for _ in range(150):
        response = client.get("/_sandbox/health", auth=("app1", "secret"))
        assert response.status_code == 200
        assert COUNT_HEADER not in response.headers
    assert _get(client).headers[COUNT_HEADER] == "1"


def test_a_non_numeric_offset_counts_as_shallow(client):
    response = _get(client, path="/people/v2/people?offset=lots")
    assert response.headers[LIMIT_HEADER] == "100"


def test_disabled_limiter_never_refuses_but_still_reports(clock):
    limiter = RateLimiter(clock, limit=2, enabled=False)
    decisions = [limiter.hit("app1") for _ in range(5)]
    assert all(d.allowed for d in decisions)
    assert decisions[-1].count == 5


def test_configurable_limit_and_period(clock):
    limiter = RateLimiter(clock, limit=3, period=60)
    assert [limiter.hit("a").allowed for _ in range(4)] == [True, True, True, False]
    clock.advance(59)
    assert limiter.hit("a").retry_after == 1
    clock.advance(1)
    assert limiter.hit("a").allowed


def test_concurrent_hits_are_counted_exactly_once_each(clock):
    limiter = RateLimiter(clock, limit=1000)
    results: list[RateDecision] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(200):
            decision = limiter.hit("app1")
            with lock:
                results.append(decision)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = sorted(d.count for d in results)
    assert counts == list(range(1, 1601))
    assert sum(d.allowed for d in results) == 1000
