"""`make run`: the whole system on 127.0.0.1 (PCO sandbox, moto, real handlers, API stand-in, admin page).

python -m local.stack                     run until Ctrl-C / SIGTERM
python -m local.stack token --role ROLE   print a bearer token for the running stack
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import urllib.request
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import boto3
from werkzeug.serving import BaseWSGIServer, make_server

from local.stack.assembly import SITE_DIR, TEMPLATE_PATH, assemble, dev_issuer, stack_parameters
from local.stack.auth import DEFAULT_KEY_PATH, load_or_create_key
from local.stack.harness import AWS_TEST_ENV, MOTO_CONFIG
from local.stack.pco_sandbox import RunningSandbox, SandboxCredentials, sandbox_credentials, start_sandbox
from local.stack.sqs_events import SqsPoller
from local.stack.template import REGION, Template

HOST = "127.0.0.1"
DEFAULT_API_PORT = 3000
DEFAULT_MOTO_PORT = 4566
DEFAULT_SANDBOX_PORT = 4010
LOCAL_APP_ID = "local-dev-app-id"
LOCAL_SECRET = "local-dev-secret"  # noqa: S105 - the sandbox's own credentials, nothing real
LOCAL_WEBHOOK_SECRET = "local-dev-webhook-secret"  # noqa: S105

log = logging.getLogger("local.stack")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def start_moto(port: int) -> tuple[str, Callable[[], None]]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    _, real_port = server.get_host_and_port()
    # moto's Step Functions calls Lambda back at localhost:$MOTO_PORT; ThreadedMotoServer does not set it.
    os.environ["MOTO_PORT"] = str(real_port)
    endpoint = f"http://{HOST}:{real_port}"
    request = urllib.request.Request(  # noqa: S310 - our own local server
        f"{endpoint}/moto-api/config",
        data=json.dumps(MOTO_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
    return endpoint, server.stop


def start_api(app: Any, port: int) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server(HOST, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-standin", daemon=True)
    thread.start()
    return server, thread


def run() -> int:
    # Handlers log through Powertools (JSON to stdout); keep moto's and werkzeug's request lines out.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    log.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stops: list[Callable[[], None]] = []
    stopped = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        app_id = os.environ.get("PCO_APP_ID", LOCAL_APP_ID)
        secret = os.environ.get("PCO_SECRET", LOCAL_SECRET)
        webhook_secret = os.environ.get("PCO_WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET)
        pco_base_url = os.environ.get("PCO_BASE_URL")
        sandbox: RunningSandbox | None = None
        if not pco_base_url:
            own = SandboxCredentials(LOCAL_APP_ID, LOCAL_SECRET, LOCAL_WEBHOOK_SECRET)
            given = SandboxCredentials(app_id, secret, webhook_secret or None)
            accepted = sandbox_credentials(os.environ, own=own, stack=given)
            sandbox = start_sandbox(
                port=_env_int("SANDBOX_PORT", DEFAULT_SANDBOX_PORT),
                people=_env_int("SANDBOX_PEOPLE", 500),
                seed=_env_int("SANDBOX_SEED", 7),
                app_id=accepted.app_id,
                secret=accepted.secret,
                webhook_secret=accepted.webhook_secret,
                deliver_webhooks=True,
            )
            pco_base_url = sandbox.url
            stops.append(sandbox.stop)

        for name, value in AWS_TEST_ENV.items():
            os.environ.setdefault(name, value)
        moto_url, stop_moto = start_moto(_env_int("MOTO_SERVER_PORT", DEFAULT_MOTO_PORT))
        stops.append(stop_moto)
        os.environ["AWS_ENDPOINT_URL"] = moto_url

        api_port = _env_int("API_PORT", DEFAULT_API_PORT)
        api_url = f"http://{HOST}:{api_port}"
        assembled = assemble(
            template_path=TEMPLATE_PATH,
            boto_session_or_endpoint=moto_url,
            params=stack_parameters(
                app_id=app_id, secret=secret, webhook_secret=webhook_secret, pco_base_url=pco_base_url
            ),
            env_overrides={"PCO_BASE_URL": pco_base_url},
            issuer_key=load_or_create_key(DEFAULT_KEY_PATH),
            site_dir=SITE_DIR,
            api_endpoint=api_url,
        )
        stops.append(assembled.uninstall_dispatcher)
        api_server, _ = start_api(assembled.api_app, api_port)
        stops.append(api_server.shutdown)
        # Lambda's SQS event sources: the webhook worker consumes its queue within a second.
        for source in assembled.event_sources:
            poller = SqsPoller(source, lambda: boto3.client("sqs", endpoint_url=moto_url, region_name=REGION))
            poller.start()
            stops.append(poller.stop)

        webhook_url = f"{api_url}/webhooks/pco"
        webhooks_line = f"  webhooks     {webhook_url}"
        if sandbox is not None:
            # The sandbox's hub signs with the stack's webhook secret and delivers every half second.
            count = sandbox.subscribe_webhooks(webhook_url)
            webhooks_line += f"  ({count} sandbox subscriptions; edit via {pco_base_url}/_sandbox)"
        else:
            webhooks_line += "  (PCO_BASE_URL is not the sandbox: subscribe in PCO yourself)"

        token = assembled.issuer.issue_token("TECH_ADMIN", email="tech.admin@church.local")
        print(
            "\nPCO Sync is running locally\n"
            f"  admin page   {api_url}/\n"
            f"  admin API    {api_url}/api\n"
            f"  PCO sandbox  {pco_base_url}  (app id {app_id})\n"
            f"  moto (AWS)   {moto_url}\n"
            f"{webhooks_line}\n"
            f"\nBearer token for a local TECH_ADMIN (also: make token ROLE=...):\n{token}\n"
            "\nCtrl-C to stop.",
            flush=True,
        )
        stopped.wait()
        return 0
    finally:
        for stop in reversed(stops):
            try:
                stop()
            except Exception:
                log.exception("while stopping the local stack")


def token(role: str, *, email: str | None, ttl: int) -> int:
    template = Template.load(TEMPLATE_PATH)
    issuer = dev_issuer(template, load_or_create_key(DEFAULT_KEY_PATH))
    print(issuer.issue_token(role, email=email, ttl=ttl))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    token_cmd = sub.add_parser("token", help="print a bearer token for the running local stack")
    token_cmd.add_argument("--role", default="TECH_ADMIN")
    token_cmd.add_argument("--email", default=None)
    token_cmd.add_argument("--ttl", type=int, default=8 * 3600, help="seconds")
    args = parser.parse_args(argv)
    if args.command == "token":
        return token(args.role, email=args.email, ttl=args.ttl)
    return run()


if __name__ == "__main__":
    sys.exit(main())
