"""PCO's API versions as the sandbox knows them, and the version a rendering or a write is done in.

A request's `X-PCO-API-Version` resolves to the latest known version at or before it (PCO's docs,
overview/versioning); the routes run inside `api_version(product, version)` so renderers and write rules
read it with `version_of(product)`. Outside a request (webhook events, /_sandbox answers) every product
renders in its latest version.

Sources: twcrews/planningcenter-api Definitions/People|Groups/*.json (commit c1a74897), whose `Details`
name each version's change; vrwarp/pcomirror tests/golden/manifest.json (commit 3e176262) was captured
against People 2026-06-04.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar

from local.sandbox.jsonapi import ApiError

PEOPLE = "/people/v2"
GROUPS = "/groups/v2"
WEBHOOKS = "/webhooks/v2"
VERSIONS: dict[str, tuple[str, ...]] = {
    PEOPLE: (
        "2018-08-01",
        "2019-01-14",
        "2019-10-10",
        "2020-04-06",
        "2020-07-22",
        "2021-08-17",
        "2022-01-05",
        "2022-01-28",
        "2022-07-14",
        "2023-02-15",
        "2023-03-21",
        "2024-09-12",
        "2025-03-20",
        "2025-07-02",
        "2025-07-17",
        "2025-11-10",
        "2026-06-04",
    ),
    GROUPS: ("2018-08-01", "2023-07-10"),
    WEBHOOKS: ("2022-10-20",),
}
# People 2023-03-21: Address `street` became `street_line_1` + `street_line_2` (twcrews Definitions diff;
# a real 2018-08-01 answer in billdeitrick/pypco's cassettes carries `street` and no country).
ADDRESS_LINES_SINCE = "2023-03-21"
# Groups 2023-07-10: "Removed attributes from `Membership` related to separate resources."
SLIM_MEMBERSHIP_SINCE = "2023-07-10"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_current: ContextVar[tuple[str, str] | None] = ContextVar("pco_api_version", default=None)


def latest(product: str) -> str:
    return VERSIONS[product][-1]


def resolve(product: str, requested: str | None) -> str:
    """The version PCO processes a request as: the latest known at or before `requested` (none: latest)."""
    known = VERSIONS[product]
    if requested is None:
        return known[-1]
    if not _DATE.match(requested) or requested < known[0]:
        raise ApiError(
            400,
            "Bad Request",
            f"{requested} is not a supported version. Versions: {', '.join(known)}",
            code="unsupported_version_error",
        )
    return max(v for v in known if v <= requested)


def version_of(product: str) -> str:
    """The version the current request runs in for `product`; the latest outside a request of it."""
    current = _current.get()
    if current is not None and current[0] == product:
        return current[1]
    return latest(product)


def set_request_version(product: str | None, version: str | None) -> None:
    """Called once per request (None for routes outside the versioned APIs)."""
    _current.set((product, version) if product and version else None)


@contextlib.contextmanager
def latest_versions() -> Iterator[None]:
    """Render in every product's latest version (webhook events are rendered inside API requests)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def address_lines(version: str | None = None) -> bool:
    """True when Address carries street_line_1/2 and country fields rather than `street`."""
    return (version or version_of(PEOPLE)) >= ADDRESS_LINES_SINCE


def slim_memberships(version: str | None = None) -> bool:
    return (version or version_of(GROUPS)) >= SLIM_MEMBERSHIP_SINCE
