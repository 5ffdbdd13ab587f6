"""A page's PCO reads retried in place: which failures, how long the pauses, and where it stops."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from pco_core.errors import PcoRequestError, PcoUnavailable, RateLimited
from pco_core.pco.client import PcoClient
from pco_core.pco.retry import ReadRetry, RetryingReads
from tests.unit.fakes import START, FakeClock

OK = {"data": [{"type": "Person", "id": "1", "attributes": {}}]}
Answer = Callable[[httpx.Request], httpx.Response]


def unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, json={"errors": [{"status": "503", "title": "Service Unavailable"}]})


def dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=OK)


class Scripted:
    """PCO answering each request from a script; the last answer repeats."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request)


class Pauses:
    """The injected sleep: records each pause and moves the fake clock by it (nothing really sleeps)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.taken: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        self.clock.advance(seconds)


def reads(
    pco: Scripted, *, seconds_left: float = 90, policy: ReadRetry | None = None
) -> tuple[RetryingReads, Pauses]:
    clock = FakeClock()
    pauses = Pauses(clock)
    client = PcoClient("https://pco.test", "app", "secret", transport=httpx.MockTransport(pco))
    retrying = RetryingReads(
        client,
        deadline=START + timedelta(seconds=seconds_left),
        clock=clock,
        sleep=pauses,
        policy=policy,
    )
    return retrying, pauses


@pytest.mark.parametrize("failure", [unavailable, dropped], ids=["503", "dropped-connection"])
def test_given_two_failed_reads_then_the_third_attempt_answers_after_growing_pauses(failure: Answer) -> None:
    pco = Scripted(failure, failure, ok)
    retrying, pauses = reads(pco)
    document = retrying.get("/people/v2/people", {"per_page": 100})
    assert [r.id for r in document.resources()] == ["1"]
    assert len(pco.requests) == 3
    assert pauses.taken == [0.5, 1.0]
    assert retrying.retries == 2
    # every attempt asked for the same thing
    assert {str(r.url) for r in pco.requests} == {"https://pco.test/people/v2/people?per_page=100"}


def test_given_pco_keeps_failing_then_the_read_gives_up_after_the_last_attempt() -> None:
    pco = Scripted(unavailable)
    retrying, pauses = reads(pco)
    with pytest.raises(PcoUnavailable, match="503"):
        retrying.get("/people/v2/people")
    assert len(pco.requests) == 4
    assert pauses.taken == [0.5, 1.0, 2.0]


def test_given_a_503_with_retry_after_then_the_pause_honours_it() -> None:
    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "3"}, json={"errors": [{"status": "503"}]})

    pco = Scripted(busy, ok)
    retrying, pauses = reads(pco)
    retrying.get("/people/v2/people")
    assert pauses.taken == [3.0]


def test_given_a_retry_after_longer_than_a_page_should_wait_then_the_state_machine_retries_instead() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "120"}, json={"errors": [{"status": "503"}]})

    pco = Scripted(down, ok)
    retrying, pauses = reads(pco)
    with pytest.raises(PcoUnavailable) as raised:
        retrying.get("/people/v2/people")
    assert raised.value.retry_after == 120
    assert (len(pco.requests), pauses.taken) == (1, [])


def test_given_the_page_deadline_is_near_then_no_pause_outlives_it() -> None:
    # Given 1.2 s left: the first pause (0.5 s) fits, the second (1 s) would pass the deadline
    pco = Scripted(unavailable)
    retrying, pauses = reads(pco, seconds_left=1.2)
    with pytest.raises(PcoUnavailable):
        retrying.get("/people/v2/people")
    assert (len(pco.requests), pauses.taken) == (2, [0.5])


def test_given_no_time_left_then_a_failed_read_is_not_retried() -> None:
    pco = Scripted(unavailable, ok)
    retrying, pauses = reads(pco, seconds_left=0)
    with pytest.raises(PcoUnavailable):
        retrying.get("/people/v2/people")
    assert (len(pco.requests), pauses.taken) == (1, [])


@pytest.mark.parametrize("method", ["post", "patch"])
def test_given_a_failed_write_then_it_is_never_retried(method: str) -> None:
    # A POST whose answer was lost may have created the person: sending it again could create a second one.
    pco = Scripted(dropped, ok)
    retrying, pauses = reads(pco)
    with pytest.raises(PcoUnavailable):
        getattr(retrying, method)("/people/v2/people", {"data": {"type": "Person", "attributes": {}}})
    assert (len(pco.requests), pauses.taken) == (1, [])


def test_given_a_429_then_the_read_is_not_waited_out_in_the_page() -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "1"}, json={"errors": [{"code": "429"}]})

    pco = Scripted(limited, ok)
    retrying, pauses = reads(pco)
    with pytest.raises(RateLimited):
        retrying.get("/people/v2/people")
    assert (len(pco.requests), pauses.taken) == (1, [])


def test_given_pco_refuses_the_request_then_it_is_not_retried() -> None:
    def not_found(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"errors": [{"status": "404", "title": "Not Found"}]})

    pco = Scripted(not_found, ok)
    retrying, _ = reads(pco)
    with pytest.raises(PcoRequestError):
        retrying.get("/people/v2/people/1")
    assert len(pco.requests) == 1


def test_a_policy_bounds_attempts_and_the_longest_pause() -> None:
    pco = Scripted(unavailable)
    retrying, pauses = reads(pco, policy=ReadRetry(attempts=6, first_pause=1, longest_pause=3))
    with pytest.raises(PcoUnavailable):
        retrying.get("/people/v2/people")
    assert pauses.taken == [1, 2, 3, 3, 3]
