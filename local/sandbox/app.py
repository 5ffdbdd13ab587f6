"""The sandbox's composition: one `Sandbox` (config, clock, data, rate limiter, faults, webhook hub) and
`create_app`, which wires the People, Groups, Webhooks and /_sandbox routes onto a Flask app."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

import flask
from werkzeug.exceptions import HTTPException

from local.sandbox import versions
from local.sandbox.admin import admin_blueprint
from local.sandbox.api_groups import groups_blueprint
from local.sandbox.api_people import people_blueprint
from local.sandbox.church import generate_church
from local.sandbox.clock import Clock, SystemClock
from local.sandbox.data import SandboxSettings, Store
from local.sandbox.faults import FaultConfig, FaultInjector, install_faults
from local.sandbox.jsonapi import ApiError, error_response
from local.sandbox.ratelimit import RateLimiter, install_rate_limit
from local.sandbox.webhooks import Sender, WebhookHub, webhooks_blueprint

API_PREFIXES = (versions.PEOPLE, versions.GROUPS, versions.WEBHOOKS)
VERSION_HEADER = "X-PCO-API-Version"
PROCESSED_HEADER = "X-PCO-API-Processed-As-Version"


@dataclass
class SandboxConfig:
    app_id: str = "sandbox-app-id"
    secret: str = "sandbox-secret"  # noqa: S105 (the sandbox's documented default)
    webhook_secret: str | None = None
    people: int = 200
    seed: int = 7
    data_file: str | None = None  # load this dataset instead of generating one
    rate_limit: int = 100
    rate_period: int = 20
    rate_limit_enabled: bool = True
    # Past this offset PCO enforces deep_offset_limit while its headers still say rate_limit (#1449).
    deep_offset_threshold: int = 30000
    deep_offset_limit: int = 10
    deep_offset_honest_headers: bool = False
    settings: SandboxSettings = field(default_factory=SandboxSettings)


@dataclass
class Sandbox:
    config: SandboxConfig
    clock: Clock
    store: Store
    limiter: RateLimiter
    faults: FaultInjector
    hub: WebhookHub

    @classmethod
    def create(
        cls,
        config: SandboxConfig | None = None,
        *,
        clock: Clock | None = None,
        sender: Sender | None = None,
        faults: FaultConfig | None = None,
        generator: Callable[..., object] = generate_church,
    ) -> Sandbox:
        """`generator(store, people=, seed=)` fills the store when no data file is configured."""
        config = config or SandboxConfig()
        clock = clock or SystemClock()
        store = Store(clock, config.settings)
        if config.data_file:
            store.load_file(config.data_file)
        else:
            generator(store, people=config.people, seed=config.seed)
        hub = WebhookHub(clock, webhook_secret=config.webhook_secret, sender=sender)
        store.publish = hub.publish
        limiter = RateLimiter(
            clock,
            limit=config.rate_limit,
            period=config.rate_period,
            deep_offset_limit=config.deep_offset_limit,
            deep_offset_threshold=config.deep_offset_threshold,
            deep_offset_honest_headers=config.deep_offset_honest_headers,
            enabled=config.rate_limit_enabled,
        )
        return cls(config, clock, store, limiter, FaultInjector(faults or FaultConfig(), clock), hub)

    def regenerate(self, *, people: int, seed: int) -> None:
        with self.store.lock:
            self.store.clear()
            generate_church(self.store, people=people, seed=seed)
            self.config.people, self.config.seed = people, seed

    def credential_of(self, request: flask.Request) -> str | None:
        auth = request.authorization
        return auth.username if auth is not None and auth.username else None

    def authorized(self, request: flask.Request) -> bool:
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return False
        return hmac.compare_digest(str(auth.username or ""), self.config.app_id) and hmac.compare_digest(
            str(auth.password or ""), self.config.secret
        )


def _product(path: str) -> str | None:
    return next((p for p in API_PREFIXES if path == p or path.startswith(p + "/")), None)


def create_app(sandbox: Sandbox) -> flask.Flask:
    app = flask.Flask("pco_sandbox")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["pco_sandbox"] = sandbox

    @app.before_request
    def _authenticate() -> flask.Response | None:
        request = flask.request
        product = _product(request.path)
        versions.set_request_version(None, None)
        if product is None:
            return None
        if not sandbox.authorized(request):
            return error_response(
                401,
                "Unauthorized",
                "The credentials you provided are not valid: use HTTP Basic with your app id and secret",
            )
        flask.g.pco_version = versions.resolve(product, request.headers.get(VERSION_HEADER))
        versions.set_request_version(product, flask.g.pco_version)
        return None

    install_rate_limit(app, sandbox.limiter, sandbox.credential_of)
    install_faults(app, sandbox.faults)

    @app.after_request
    def _version_header(response: flask.Response) -> flask.Response:
        version = flask.g.get("pco_version")
        if version:
            response.headers[PROCESSED_HEADER] = version
        return response

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError) -> flask.Response:
        return err.to_response()

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> flask.Response:
        status = err.code or 500
        detail = {
            404: "The resource you requested could not be found",
            405: f"{flask.request.method} is not allowed on {flask.request.path}",
        }.get(status, err.description or "")
        response = error_response(status, err.name, detail)
        if status == 405:
            response.headers["Allow"] = (
                ", ".join(err.valid_methods or []) if hasattr(err, "valid_methods") else ""
            )
        return response

    app.register_blueprint(people_blueprint(sandbox.store))
    app.register_blueprint(groups_blueprint(sandbox.store))
    app.register_blueprint(webhooks_blueprint(sandbox.hub))
    app.register_blueprint(admin_blueprint(sandbox))
    return app
