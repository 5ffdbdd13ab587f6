"""OffsetPaginator: moves forward through PCO pages, stops on the last one, refuses loops."""

from __future__ import annotations

import httpx
import pytest

from pco_core.errors import PcoUnavailable
from pco_core.pco.client import PcoClient
from pco_core.pco.jsonapi import Document
from pco_core.pco.paginate import OffsetPaginator


def _page(next_offset: int | None, *, via: str = "meta") -> Document:
    if next_offset is None:
        return Document.model_validate({"data": [], "meta": {"total_count": 250}})
    if via == "links":
        url = f"https://api.planningcenteronline.com/people/v2/people?offset={next_offset}&per_page=100"
        return Document.model_validate({"data": [], "links": {"next": url}})
    return Document.model_validate({"data": [], "meta": {"next": {"offset": next_offset}}})


def test_walks_pages_until_the_last_one() -> None:
    paginator = OffsetPaginator()
    assert paginator.params() == {"per_page": 100, "offset": 0}

    assert paginator.advance(_page(100)) == 100
    assert paginator.advance(_page(200, via="links")) == 200
    assert paginator.params() == {"per_page": 100, "offset": 200}
    assert not paginator.finished
    assert paginator.advance(_page(None)) is None
    assert paginator.finished
    assert paginator.pages == 3
    assert paginator.offset == 200


def test_resumes_from_a_saved_cursor() -> None:
    paginator = OffsetPaginator(offset=300, per_page=50)
    assert paginator.params() == {"per_page": 50, "offset": 300}
    assert paginator.advance(_page(350)) == 350


@pytest.mark.parametrize("next_offset", [0, 100])
def test_refuses_a_repeated_or_backwards_offset(next_offset: int) -> None:
    paginator = OffsetPaginator(offset=100)
    with pytest.raises(PcoUnavailable, match="does not move past"):
        paginator.advance(_page(next_offset))
    assert paginator.offset == 100


def test_refuses_a_next_link_without_an_offset() -> None:
    doc = Document.model_validate(
        {"data": [], "links": {"next": "https://api.planningcenteronline.com/x?cursor=ab"}}
    )
    with pytest.raises(PcoUnavailable, match="without an offset"):
        OffsetPaginator().advance(doc)


def test_advancing_a_finished_listing_is_a_bug() -> None:
    paginator = OffsetPaginator()
    paginator.advance(_page(None))
    with pytest.raises(RuntimeError):
        paginator.advance(_page(None))


@pytest.mark.parametrize(("offset", "per_page"), [(-1, 100), (0, 0), (0, 101)])
def test_rejects_impossible_settings(offset: int, per_page: int) -> None:
    with pytest.raises(ValueError, match=r"offset|per_page"):
        OffsetPaginator(offset=offset, per_page=per_page)


def test_with_the_client_over_a_paged_listing() -> None:
    # Given a PCO listing of 250 people served 100 at a time
    def serve(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        per_page = int(request.url.params["per_page"])
        ids = range(offset, min(offset + per_page, 250))
        body: dict[str, object] = {
            "data": [{"type": "Person", "id": str(i), "attributes": {}} for i in ids],
            "meta": {"total_count": 250, "count": len(ids)},
            "links": {},
        }
        if offset + per_page < 250:
            body["meta"] = {"total_count": 250, "next": {"offset": offset + per_page}}
            body["links"] = {
                "next": f"https://api.planningcenteronline.com/people/v2/people?offset={offset + per_page}"
            }
        return httpx.Response(200, json=body)

    seen: list[str] = []
    paginator = OffsetPaginator()
    # When a sync walks it one page per step
    with PcoClient(
        "https://api.planningcenteronline.com", "a", "s", transport=httpx.MockTransport(serve)
    ) as pco:
        while not paginator.finished:
            page = pco.get("/people/v2/people", {**paginator.params(), "order": "created_at"})
            seen.extend(r.id for r in page.resources())
            paginator.advance(page)
        # Then every person is seen once, in three requests
        assert pco.request_count == 3
    assert seen == [str(i) for i in range(250)]
