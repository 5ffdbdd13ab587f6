"""PcoClient against httpx.MockTransport: what PCO receives, and how every answer is classified."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest

from pco_core.errors import (
    ConfigError,
    FatalError,
    PcoAuthError,
    PcoRequestError,
    PcoUnavailable,
    RateLimited,
    RetriableError,
)
from pco_core.pco.client import PcoClient, RateInfo, parse_rate, raise_for_pco_status
from pco_core.pco.models import PcoPerson
from tests.unit.pco.support import Recorder, load_json

BASE = "https://api.planningcenteronline.com"
APP_ID = "app-id-1234"
SECRET = "s3cr3t-value-do-not-leak"
RATE = {
    "X-PCO-API-Request-Rate-Limit": "100",
    "X-PCO-API-Request-Rate-Period": "20",
    "X-PCO-API-Request-Rate-Count": "1",
}


@pytest.fixture
def client(recorder: Recorder) -> Iterator[PcoClient]:
    with PcoClient(BASE, APP_ID, SECRET, transport=httpx.MockTransport(recorder)) as pco:
        yield pco


def _error(status: int, title: str, detail: str, **extra: str) -> dict[str, object]:
    return {"errors": [{"status": str(status), "title": title, "detail": detail, **extra}]}


# --- what PCO receives ---------------------------------------------------------------------------


def test_get_sends_basic_auth_version_params_and_parses_the_page(
    client: PcoClient, recorder: Recorder
) -> None:
    recorder.add(httpx.Response(200, json=load_json("people_page.json"), headers=RATE))

    page = client.get(
        "/people/v2/people",
        {
            "per_page": 100,
            "offset": 0,
            "include": "emails,phone_numbers,addresses,households",
            "order": "created_at",
        },
    )

    (request,) = recorder.requests
    expected = "Basic " + base64.b64encode(f"{APP_ID}:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == expected
    assert request.headers["X-PCO-API-Version"] == "2026-06-04"
    assert request.headers["User-Agent"] == "pco-sync"
    assert request.url.host == "api.planningcenteronline.com"
    assert request.url.path == "/people/v2/people"
    assert dict(request.url.params) == {
        "per_page": "100",
        "offset": "0",
        "include": "emails,phone_numbers,addresses,households",
        "order": "created_at",
    }
    assert page.next_offset == 2
    assert (
        PcoPerson.from_resource(page.resources()[0], page).emails[0].address == "paul.revere@mailinator.com"
    )
    assert client.request_count == 1


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("/people/v2/people", "2026-06-04"),
        ("/people/v2/households/1/household_memberships", "2026-06-04"),
        ("/groups/v2/groups/112/memberships", "2023-07-10"),
        ("/webhooks/v2/webhook_subscriptions", "2022-10-20"),
    ],
)
def test_version_header_is_pinned_per_product(
    client: PcoClient, recorder: Recorder, path: str, version: str
) -> None:
    client.get(path)
    assert recorder.requests[0].headers["X-PCO-API-Version"] == version


def test_version_header_follows_the_path_below_a_base_url_prefix(recorder: Recorder) -> None:
    with PcoClient(
        "http://127.0.0.1:8080/pco", APP_ID, SECRET, transport=httpx.MockTransport(recorder)
    ) as pco:
        pco.get("/groups/v2/groups")
        pco.get_url("http://127.0.0.1:8080/pco/people/v2/people?offset=100")

    assert [r.url.path for r in recorder.requests] == ["/pco/groups/v2/groups", "/pco/people/v2/people"]
    assert [r.headers["X-PCO-API-Version"] for r in recorder.requests] == ["2023-07-10", "2026-06-04"]


def test_an_answer_processed_as_another_version_is_logged_once(
    client: PcoClient, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    older = {"X-PCO-API-Processed-As-Version": "2025-11-10"}
    for _ in range(2):
        recorder.add(httpx.Response(200, json={"data": []}, headers=older))
    recorder.add(
        httpx.Response(200, json={"data": []}, headers={"X-PCO-API-Processed-As-Version": "2026-06-04"})
    )

    with caplog.at_level("WARNING", logger="pco_core.pco.client"):
        for _ in range(3):
            client.get("/people/v2/people")

    warnings = [
        r for r in caplog.records if r.getMessage() == "PCO processed the request as another API version"
    ]
    assert [(r.__dict__["pinned"], r.__dict__["processed_as"]) for r in warnings] == [
        ("2026-06-04", "2025-11-10")
    ]


def test_unknown_product_gets_no_version_header(client: PcoClient, recorder: Recorder) -> None:
    client.get("/calendar/v2/events")
    assert "X-PCO-API-Version" not in recorder.requests[0].headers


def test_post_and_patch_send_the_json_document(client: PcoClient, recorder: Recorder) -> None:
    created = {"data": {"type": "Person", "id": "9", "attributes": {"first_name": "Ann"}}}
    recorder.add(httpx.Response(201, json=created))
    recorder.add(httpx.Response(200, json=created))
    body = {"data": {"type": "Person", "attributes": {"first_name": "Ann", "last_name": "Lee"}}}

    post_doc = client.post("/people/v2/people", body)
    patch_doc = client.patch("/people/v2/people/9", {"data": {"type": "Person", "id": "9", "attributes": {}}})

    post, patch = recorder.requests
    assert (post.method, post.url.path) == ("POST", "/people/v2/people")
    assert json.loads(post.content) == body
    assert post.headers["Content-Type"] == "application/json"
    assert (patch.method, patch.url.path) == ("PATCH", "/people/v2/people/9")
    assert post_doc.resources()[0].id == "9"
    assert patch_doc.resources()[0].attributes["first_name"] == "Ann"


def test_delete_accepts_204(client: PcoClient, recorder: Recorder) -> None:
    recorder.add(httpx.Response(204))

    client.delete("/people/v2/emails/5")
    assert recorder.requests[0].method == "DELETE"


def test_get_url_follows_links_next_on_the_same_host(client: PcoClient, recorder: Recorder) -> None:
    client.get_url(f"{BASE}/people/v2/people?offset=100&per_page=100")

    (request,) = recorder.requests
    assert request.url.params["offset"] == "100"
    assert request.headers["X-PCO-API-Version"] == "2026-06-04"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/people/v2/people?offset=100",
        "http://api.planningcenteronline.com/people/v2/people?offset=100",  # https -> http downgrade
        "https://api.planningcenteronline.com:8443/people/v2/people",
    ],
)
def test_get_url_to_another_host_is_refused_before_any_request(
    client: PcoClient, recorder: Recorder, url: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        client.get_url(url)

    assert recorder.requests == []
    assert client.request_count == 0
    assert isinstance(caught.value, FatalError)


def test_request_count_counts_every_request_whatever_the_answer(
    client: PcoClient, recorder: Recorder
) -> None:
    recorder.add(httpx.Response(200, json={"data": []}))
    recorder.add(httpx.Response(500))
    recorder.add(httpx.ConnectError("refused"))

    client.get("/people/v2/people")
    with pytest.raises(PcoUnavailable):
        client.get("/people/v2/people")
    with pytest.raises(PcoUnavailable):
        client.get("/people/v2/people")

    assert client.request_count == 3


# --- classification of answers --------------------------------------------------------------------


def test_429_is_rate_limited_with_retry_after(client: PcoClient, recorder: Recorder) -> None:
    body = {"errors": [{"code": "429", "detail": "Rate limit exceeded: 118 of 100 requests per 20 seconds"}]}
    recorder.add(httpx.Response(429, json=body, headers={"Retry-After": "7", **RATE}))

    with pytest.raises(RateLimited) as caught:
        client.get("/people/v2/people")

    assert caught.value.retry_after == 7
    assert isinstance(caught.value, RetriableError)
    assert "118 of 100" in str(caught.value)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "-3"}, 1),  # seen in the wild (developers#606)
        ({"Retry-After": "0"}, 1),
        ({"Retry-After": "12"}, 12),
        ({}, 20),  # nothing at all: PCO's window
        (
            {
                "X-PCO-API-Request-Rate-Limit": "75",
                "X-PCO-API-Request-Rate-Period": "30 seconds",
                "X-PCO-API-Request-Rate-Count": "80",
            },
            30,
        ),  # missing Retry-After: the rate period
        ({"Retry-After": "soon"}, 20),
    ],
)
def test_retry_after_is_clamped_and_defaulted(headers: dict[str, str], expected: int) -> None:
    response = httpx.Response(429, headers=headers, json={"errors": [{"title": "Too Many Requests"}]})

    with pytest.raises(RateLimited) as caught:
        raise_for_pco_status(response)

    assert caught.value.retry_after == expected


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_never_show_the_secret(recorder: Recorder, status: int) -> None:
    token = base64.b64encode(f"{APP_ID}:{SECRET}".encode()).decode()

    def echo(request: httpx.Request) -> httpx.Response:
        # A hostile or debugging proxy echoing the credentials back in the error body.
        auth = request.headers["Authorization"]
        return httpx.Response(
            status, json=_error(status, "Unauthorized", f"bad credentials {auth} / {SECRET}")
        )

    recorder.add(echo)
    with (
        PcoClient(BASE, APP_ID, SECRET, transport=httpx.MockTransport(recorder)) as pco,
        pytest.raises(PcoAuthError) as caught,
    ):
        pco.get("/people/v2/me")

    text = str(caught.value) + repr(caught.value.args)
    assert SECRET not in text
    assert token not in text
    assert str(status) in text
    assert isinstance(caught.value, FatalError)


def test_request_errors_never_show_the_secret(client: PcoClient, recorder: Recorder) -> None:
    recorder.add(httpx.Response(422, json=_error(422, "Forbidden Attribute", f"secret={SECRET}")))

    with pytest.raises(PcoRequestError) as caught:
        client.post("/people/v2/people", {"data": {}})

    assert SECRET not in str(caught.value)
    assert SECRET not in caught.value.detail


@pytest.mark.parametrize(
    ("status", "body", "detail"),
    [
        (
            404,
            _error(404, "Not Found", "The resource you requested could not be found"),
            "could not be found",
        ),
        (
            422,
            _error(422, "Forbidden Attribute", "name cannot be assigned", code="forbidden_attribute"),
            "name cannot be assigned",
        ),
        (
            400,
            {
                "errors": [
                    {"status": "400", "title": "Unsupported Version", "code": "unsupported_version_error"}
                ]
            },
            "Unsupported Version",
        ),
        (
            400,
            {"errors": [{"status": "400", "code": "invalid_resource_payload"}]},
            "invalid_resource_payload",
        ),
        (409, {"not": "pco shaped"}, "Conflict"),
        (410, None, "Gone"),
        (302, None, "Found"),
    ],
)
def test_other_client_errors_are_pco_request_errors(
    client: PcoClient, recorder: Recorder, status: int, body: object, detail: str
) -> None:
    recorder.add(httpx.Response(status, json=body) if body is not None else httpx.Response(status))

    with pytest.raises(PcoRequestError) as caught:
        client.get("/people/v2/people/1")

    assert caught.value.status == status
    assert detail in caught.value.detail
    if isinstance(body, dict) and "errors" in body:
        assert caught.value.errors == body["errors"]
    else:
        assert caught.value.errors == []


def test_validation_error_keeps_pco_errors_with_source(client: PcoClient, recorder: Recorder) -> None:
    body = {
        "errors": [
            {
                "status": "422",
                "title": "Unprocessable Entity",
                "detail": "Person can't be blank",
                "source": {"parameter": "person_id"},
                "meta": {"resource": "Membership"},
            }
        ]
    }
    recorder.add(httpx.Response(422, json=body))

    with pytest.raises(PcoRequestError) as caught:
        client.post("/groups/v2/groups/1/memberships", {"data": {}})

    assert caught.value.detail == "Person can't be blank"
    assert caught.value.errors[0]["source"] == {"parameter": "person_id"}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_unavailable(client: PcoClient, recorder: Recorder, status: int) -> None:
    recorder.add(httpx.Response(status, text="<html>Bad Gateway</html>"))

    with pytest.raises(PcoUnavailable, match=str(status)):
        client.get("/people/v2/people")


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadError("connection reset"),
    ],
)
def test_transport_errors_are_unavailable(client: PcoClient, recorder: Recorder, failure: Exception) -> None:
    recorder.add(failure)

    with pytest.raises(PcoUnavailable) as caught:
        client.get("/people/v2/people")

    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, text='{"data": [{"type": "Person"'),  # cut off mid-body
        httpx.Response(200, text=""),
        httpx.Response(200, json=[1, 2, 3]),
        httpx.Response(200, json={"data": [{"type": "Person"}]}),  # a resource without id
    ],
)
def test_unreadable_2xx_bodies_are_unavailable(
    client: PcoClient, recorder: Recorder, response: httpx.Response
) -> None:
    recorder.add(response)

    with pytest.raises(PcoUnavailable):
        client.get("/people/v2/people")


def test_2xx_passes_classification() -> None:
    raise_for_pco_status(httpx.Response(200))  # does not raise
    raise_for_pco_status(httpx.Response(204))  # does not raise


# --- rate headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["20", "20 seconds", " 20 seconds "])
def test_rate_headers_parse_both_period_forms(period: str) -> None:
    headers = httpx.Headers(
        {
            "X-PCO-API-Request-Rate-Limit": "100",
            "X-PCO-API-Request-Rate-Period": period,
            "X-PCO-API-Request-Rate-Count": "42",
        }
    )
    assert parse_rate(headers) == RateInfo(limit=100, period=20, count=42)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-PCO-API-Request-Rate-Limit": "100", "X-PCO-API-Request-Rate-Count": "1"},
        {
            "X-PCO-API-Request-Rate-Limit": "lots",
            "X-PCO-API-Request-Rate-Period": "20",
            "X-PCO-API-Request-Rate-Count": "1",
        },
    ],
)
def test_missing_or_unreadable_rate_headers_give_none(headers: dict[str, str]) -> None:
    assert parse_rate(httpx.Headers(headers)) is None


def test_last_rate_tracks_the_latest_response_including_429s(client: PcoClient, recorder: Recorder) -> None:
    assert client.last_rate is None
    recorder.add(httpx.Response(200, json={"data": []}, headers=RATE))
    recorder.add(
        httpx.Response(429, headers={**RATE, "X-PCO-API-Request-Rate-Count": "101", "Retry-After": "4"})
    )
    recorder.add(httpx.Response(200, json={"data": []}))

    client.get("/people/v2/people")
    assert client.last_rate == RateInfo(limit=100, period=20, count=1)
    with pytest.raises(RateLimited):
        client.get("/people/v2/people")
    assert client.last_rate == RateInfo(limit=100, period=20, count=101)
    client.get("/people/v2/people")
    assert client.last_rate is None


@pytest.mark.parametrize(
    ("count", "reserve", "expected"),
    [
        (1, 5, 0),  # 99 left
        (94, 5, 0),  # 6 left > 5
        (95, 5, 20),  # 5 left == reserve: wait the window
        (100, 5, 20),
        (118, 0, 20),  # over the limit
        (99, 0, 0),  # 1 left > 0
    ],
)
def test_suggested_wait(
    client: PcoClient, recorder: Recorder, count: int, reserve: int, expected: int
) -> None:
    recorder.add(
        httpx.Response(200, json={"data": []}, headers={**RATE, "X-PCO-API-Request-Rate-Count": str(count)})
    )
    client.get("/people/v2/people")

    assert client.suggested_wait(reserve) == expected


def test_suggested_wait_uses_the_announced_period_and_is_zero_without_headers(
    client: PcoClient, recorder: Recorder
) -> None:
    assert client.suggested_wait(10) == 0
    recorder.add(
        httpx.Response(
            200,
            json={"data": []},
            headers={
                "X-PCO-API-Request-Rate-Limit": "75",
                "X-PCO-API-Request-Rate-Period": "20 seconds",
                "X-PCO-API-Request-Rate-Count": "70",
            },
        )
    )
    client.get("/people/v2/people")
    assert client.suggested_wait(10) == 20


def test_default_transport_is_built_without_network() -> None:
    # Constructing a client must not touch the network (imports and construction are side-effect free).
    with PcoClient(BASE, APP_ID, SECRET) as pco:
        assert pco.request_count == 0
