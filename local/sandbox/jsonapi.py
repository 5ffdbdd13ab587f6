"""JSON:API documents as Planning Center shapes them: error bodies, resource documents, list pages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response

JSONAPI_MIMETYPE = "application/vnd.api+json"


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response with PCO's content type (UTF-8, unicode kept as is)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = Response(text, status=status, mimetype="application/json")
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_object(
    status: int,
    title: str,
    detail: str,
    *,
    code: str | None = None,
    source: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of PCO's `errors` array (status is a string, as PCO sends it)."""
    error: dict[str, Any] = {"status": str(status), "title": title, "detail": detail}
    if code is not None:
        error["code"] = code
    if source is not None:
        error["source"] = source
    if meta is not None:
        error["meta"] = meta
    return error


def error_response(
    status: int,
    title: str,
    detail: str,
    *,
    code: str | None = None,
    source: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> Response:
    """PCO's error body: {"errors":[{"status":"404","title":"Not Found","detail":"..."}]}."""
    body = {"errors": [error_object(status, title, detail, code=code, source=source, meta=meta)]}
    return json_response(body, status=status)


class ApiError(Exception):
    """Raised anywhere in the sandbox's data layer or routes; the app turns it into PCO's error body."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        code: str | None = None,
        source: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code
        self.source = source
        self.meta = meta

    def to_response(self) -> Response:
        return error_response(
            self.status, self.title, self.detail, code=self.code, source=self.source, meta=self.meta
        )


def not_found(detail: str = "The resource you requested could not be found") -> ApiError:
    return ApiError(404, "Not Found", detail)


def bad_payload(detail: str) -> ApiError:
    return ApiError(400, "Bad Request", detail, code="invalid_resource_payload")


def forbidden_attribute(attribute: str, resource: str) -> ApiError:
    """PCO's answer to an attribute a write may not assign, exactly as developers#755 and #463 quote it:
    {"errors":[{"status":"422","title":"Forbidden Attribute","detail":"person cannot be assigned"}]}."""
    return ApiError(422, "Forbidden Attribute", f"{attribute} cannot be assigned")


def validation_error(parameter: str, detail: str, resource: str) -> ApiError:
    """PCO's validation answer (developers#755): title "Validation Error", the attribute in
    `source.parameter`, the resource and its `associated_resources` in `meta` (and no `code`)."""
    return ApiError(
        422,
        "Validation Error",
        detail,
        source={"parameter": parameter},
        meta={"resource": resource, "associated_resources": []},
    )


def read_document(raw: bytes, expected_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The attributes and relationships of a PCO write body {"data":{"type","attributes","relationships"}}."""
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as err:
        raise bad_payload("The request body is not valid JSON") from err
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise bad_payload("The payload must be a JSON object with a `data` object")
    kind = data.get("type")
    if kind is not None and kind != expected_type:
        raise bad_payload(f"The payload's type must be {expected_type}, not {kind}")
    attributes = data.get("attributes", {})
    relationships = data.get("relationships", {})
    if not isinstance(attributes, dict) or not isinstance(relationships, dict):
        raise bad_payload("`attributes` and `relationships` must be JSON objects")
    return attributes, relationships
