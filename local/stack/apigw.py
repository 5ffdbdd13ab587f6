"""An HTTP API (payload format 2.0) stand-in: JWT authorizer, Lambda proxy events, and the static admin page.

Requests matching a template route (a function's HttpApi event) become the event API Gateway would send;
routes behind the JWT authorizer are refused with 401 {"message":"Unauthorized"} before any handler runs,
as API Gateway does. Everything else is served from site/ (the same files that go to S3).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, Request, Response, request, send_from_directory
from werkzeug.exceptions import HTTPException, NotFound

from local.stack.auth import DevIssuer, InvalidTokenError, JwtVerifier
from local.stack.lambdas import Handler, invoke_handler
from local.stack.template import ACCOUNT_ID, HttpRoute

LOCAL_ROLE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")

API_ID = "local"
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|javascript|x-www-form-urlencoded|graphql))\s*(;.*)?$",
    re.IGNORECASE,
)
DEFAULT_ROUTES = (
    HttpRoute("ANY", "/api/{proxy+}", "AdminApiFunction", jwt_required=True),
    HttpRoute("ANY", "/webhooks/{proxy+}", "WebhookFunction", jwt_required=False),
)


@dataclass(frozen=True)
class ApiFunction:
    """A function the API can call: its name (for the Lambda context) and its handler."""

    name: str
    handler: Handler
    timeout_seconds: float = 30.0
    memory_limit_in_mb: int = 256


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


def _route_regex(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/"):
        greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
        param = re.fullmatch(r"\{(\w+)\}", segment)
        if greedy:
            parts.append(f"(?P<{greedy.group(1)}>.+)")
        elif param:
            parts.append(f"(?P<{param.group(1)}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


def match_route(routes: Sequence[HttpRoute], method: str, path: str) -> RouteMatch | None:
    """The most specific route, as API Gateway picks it: literal > variable > greedy, method > ANY."""
    candidates = []
    for route in routes:
        if route.path == "$default" or route.method not in ("ANY", method.upper()):
            continue
        found = _route_regex(route.path).match(path)
        if found is None:
            continue
        greedy = "+}" in route.path
        variables = route.path.count("{")
        literal = len(re.sub(r"\{[^}]*\}", "", route.path))
        rank = (greedy, variables, -literal, route.method == "ANY")
        candidates.append((rank, RouteMatch(route, dict(found.groupdict()))))
    if not candidates:
        default = next((r for r in routes if r.path == "$default"), None)
        return RouteMatch(default, {}) if default else None
    return min(candidates, key=lambda c: c[0])[1]


def render_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them: every value a string, arrays as "[a b]"."""

    def render(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return "[" + " ".join(render(v) for v in value) + "]"
        if isinstance(value, dict):
            return json.dumps(value, separators=(",", ":"))
        return str(value)

    return {key: render(value) for key, value in claims.items()}


def bearer_token(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, rest = value.partition(" ")
    # The authorizer takes the header value with or without the "Bearer " prefix.
    return rest.strip() if scheme.lower() == "bearer" else value.strip()


def _headers_of(req: Request) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in req.headers.items():
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers, cookies


def build_event(
    req: Request,
    match: RouteMatch,
    *,
    claims: Mapping[str, Any] | None,
    now: float,
) -> dict[str, Any]:
    """The HTTP API payload 2.0 event for this request."""
    headers, cookies = _headers_of(req)
    source_ip = req.remote_addr or "127.0.0.1"
    headers.setdefault("x-forwarded-for", source_ip)
    headers.setdefault("x-forwarded-proto", req.scheme)
    raw_query = req.query_string.decode("latin-1")
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    host = headers.get("host", "127.0.0.1")
    route_key = match.route.route_key
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "http": {
            "method": req.method,
            "path": req.path,
            "protocol": req.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
        "routeKey": route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": render_claims(claims), "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": req.path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = request_context
    data = req.get_data(cache=True)
    if data:
        content_type = headers.get("content-type", "")
        if not content_type or _TEXT_TYPES.match(content_type):
            event["body"] = data.decode("utf-8", errors="replace")
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(data).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    return event


def _json_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body), status=status, headers=dict(headers or {}), content_type="application/json"
    )


def response_from_result(result: Any) -> Response:
    """The HTTP answer API Gateway makes of a payload 2.0 Lambda result."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return Response(json.dumps(result), status=200, content_type="application/json")
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    response = Response(raw, status=int(result["statusCode"]))
    response.headers.pop("Content-Type", None)
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    if "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"
    return response


def create_api_app(
    *,
    routes: Sequence[HttpRoute],
    functions: Mapping[str, ApiFunction],
    verifier: JwtVerifier,
    site_dir: Path | None = None,
    clock: Callable[[], float] = time.time,
    dev_issuer: DevIssuer | None = None,
) -> Flask:
    """The stand-in: `functions` maps each route's function logical id to what to call.

    With `dev_issuer`, `POST /local/token {"role": ...}` signs a token for the admin page's local
    sign-in (the deployed page signs in through Cognito's hosted UI instead).
    """
    usable = [r for r in routes if r.function_logical_id in functions]
    busy = {logical_id: threading.Lock() for logical_id in functions}
    app = Flask("pco_sync_local_api", static_folder=None)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]

    def call(match: RouteMatch) -> Response:
        claims = None
        if match.route.jwt_required:
            headers, _ = _headers_of(request)
            token = bearer_token(headers)
            if token is None:
                return _json_response(401, {"message": "Unauthorized"})
            try:
                claims = verifier.verify(token)
            except InvalidTokenError as exc:
                return _json_response(
                    401,
                    {"message": "Unauthorized"},
                    {"www-authenticate": f'Bearer error="invalid_token" error_description="{exc}"'},
                )
        event = build_event(request, match, claims=claims, now=clock())
        fn = functions[match.route.function_logical_id]
        # One event at a time per function, as in one Lambda execution environment: Powertools'
        # resolvers keep the request being served on the resolver, so two at once would mix them.
        with busy[match.route.function_logical_id]:
            result, errored = invoke_handler(
                fn.handler,
                fn.name,
                event,
                timeout_seconds=fn.timeout_seconds,
                memory_limit_in_mb=fn.memory_limit_in_mb,
            )
        if errored:
            app.logger.error("%s failed: %s", fn.name, result.get("errorMessage"))
            return _json_response(500, {"message": "Internal Server Error"})
        return response_from_result(result)

    if dev_issuer is not None:

        @app.post("/local/token")
        def local_token() -> Response:
            body = request.get_json(silent=True)
            role = body.get("role") if isinstance(body, dict) else None
            if not isinstance(role, str) or not LOCAL_ROLE.fullmatch(role):
                return _json_response(400, {"message": "'role' must be a role name such as TECH_ADMIN"})
            return _json_response(200, {"token": dev_issuer.issue_token(role)})

    @app.route("/", defaults={"path": ""}, methods=methods)
    @app.route("/<path:path>", methods=methods)
    def dispatch(path: str) -> Response:
        match = match_route(usable, request.method, request.path)
        if match is not None:
            return call(match)
        if path.split("/", 1)[0] in ("api", "webhooks"):
            return _json_response(404, {"message": "Not Found"})
        if site_dir is None or request.method not in ("GET", "HEAD"):
            return _json_response(404, {"message": "Not Found"})
        try:
            return send_from_directory(site_dir, path or "index.html", max_age=0)
        except NotFound:
            return _json_response(404, {"message": "Not Found"})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        # A request no route takes (a path Flask cannot even route, e.g. with a newline) is answered
        # in JSON, as API Gateway answers it, never with Flask's HTML page.
        return _json_response(exc.code or 500, {"message": exc.name})

    @app.after_request
    def date_header(response: Response) -> Response:
        response.headers.setdefault("Date", formatdate(clock(), usegmt=True))
        response.headers.setdefault("apigw-requestid", "local")
        return response

    return app
