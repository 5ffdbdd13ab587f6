"""What the admin API checks of a request body before Powertools parses and validates it.

A body must be JSON, at most BODY_MAX_BYTES, UTF-8 text, and nest at most JSON_DEPTH_MAX deep: anything
else is refused with a JSON answer here, so no body of any shape reaches a parser that could fail
another way (a binary body is not UTF-8; 100,000 nested arrays exhaust Python's recursion).
"""

from __future__ import annotations

import binascii
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from pco_core.errors import BodyNotJson, BodyTooLarge, FieldProblem, MalformedRequest
from pco_core.limits import BODY_MAX_BYTES, JSON_DEPTH_MAX, json_depth

JSON = "application/json"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _raw_size(body: str, base64_encoded: bool) -> int:
    # Base64 holds 3 bytes in 4 characters; the decoded size is checked before anything is decoded.
    return len(body) * 3 // 4 if base64_encoded else len(body.encode("utf-8", errors="surrogatepass"))


def read_body(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    event = app.current_event
    body = event.body
    declared = event.headers.get("content-type")
    # A body, or a method that takes one, must be JSON: Powertools would parse a form, or fail on a
    # multipart body without a boundary, and every body route here is a POST, PUT or PATCH.
    if declared and (body or event.http_method in BODY_METHODS):
        content_type = declared.split(";")[0].strip().lower()
        if content_type != JSON:
            raise BodyNotJson(content_type)
    if body:
        size = _raw_size(body, bool(event.is_base64_encoded))
        if size > BODY_MAX_BYTES:
            raise BodyTooLarge(size, BODY_MAX_BYTES)
        try:
            text = event.decoded_body or ""
        except (UnicodeDecodeError, binascii.Error, ValueError):
            raise MalformedRequest(
                "the body is not UTF-8 text: send a JSON object",
                [FieldProblem("(body)", "is not UTF-8 text")],
            ) from None
        if json_depth(text) > JSON_DEPTH_MAX:
            raise MalformedRequest(
                f"the body nests deeper than {JSON_DEPTH_MAX} levels",
                [FieldProblem("(body)", f"nests deeper than {JSON_DEPTH_MAX} levels")],
            )
    return next_middleware(app)
