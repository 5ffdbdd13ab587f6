"""The `make run` process: start every part on ports claimed beforehand, stop every part on a signal.

Order: PCO sandbox (unless PCO_BASE_URL), moto, resources from template.yaml + handlers, the API stand-in,
SQS pollers, the local scheduler. Ctrl-C / SIGTERM / SIGHUP unwind whatever is starting or running and stop
each part; a second signal, or a stop that outlasts STOP_DEADLINE_SECONDS, leaves at once.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import boto3
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from local.stack.assembly import SITE_DIR, TEMPLATE_PATH, assemble, stack_parameters
from local.stack.auth import DEFAULT_KEY_PATH, load_or_create_key, local_email
from local.stack.harness import AWS_TEST_ENV, MOTO_CONFIG
from local.stack.pco_sandbox import RunningSandbox, SandboxCredentials, sandbox_credentials, start_sandbox
from local.stack.scheduler import LocalSchedule, LocalScheduler
from local.stack.settings import (
    HOST,
    LOCAL_APP_ID,
    LOCAL_SECRET,
    LOCAL_WEBHOOK_SECRET,
    SCHEDULE_VARIABLE,
    RunSettings,
)
from local.stack.sqs_events import SqsPoller
from local.stack.template import REGION

# After Ctrl-C / SIGTERM, the longest the orderly stop may take before the process leaves anyway.
STOP_DEADLINE_SECONDS = 8.0
SERVER_JOIN_SECONDS = 3.0

log = logging.getLogger("local.stack")


class StopRequested(BaseException):
    """Ctrl-C, SIGTERM or SIGHUP: unwind whatever is starting or running, then stop every part.

    A BaseException, so no `except Exception` on the way swallows it.
    """


@dataclass
class ServedApp:
    """A WSGI app served from a thread on a socket claimed beforehand."""

    url: str
    port: int
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(SERVER_JOIN_SECONDS)


def serve(
    app: Any, claim: socket.socket, name: str, request_handler: type[WSGIRequestHandler] | None = None
) -> ServedApp:
    port = claim.getsockname()[1]
    # werkzeug takes over the claimed socket (it duplicates the descriptor), so nothing binds twice.
    server = make_server(HOST, port, app, threaded=True, request_handler=request_handler, fd=claim.fileno())
    claim.close()
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return ServedApp(f"http://{HOST}:{port}", port, server, thread)


def start_moto(claim: socket.socket) -> ServedApp:
    """moto's server app, as ThreadedMotoServer builds it, on our claimed socket.

    (ThreadedMotoServer binds in its own thread: on a busy port that thread exits and start() waits
    forever, deaf to Ctrl-C.)
    """
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    served = serve(DomainDispatcherApplication(create_backend_app), claim, "moto", MotoRequestHandler)
    # moto's Step Functions calls Lambda back at localhost:$MOTO_PORT; the server does not set it.
    os.environ["MOTO_PORT"] = str(served.port)
    request = urllib.request.Request(  # noqa: S310 - our own local server
        f"{served.url}/moto-api/config",
        data=json.dumps(MOTO_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
    return served


def _on_stop_signal(stopping: threading.Event) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            # A second Ctrl-C while stopping: the user wants out now.
            os._exit(128 + signum)
        stopping.set()
        raise StopRequested(signal.Signals(signum).name)

    return handler


def _leave_if_stuck() -> None:
    """Exit the process if stopping outlasts STOP_DEADLINE_SECONDS (run_stack owns the process it runs in)."""

    def leave() -> None:
        sys.stderr.write(f"make run: still stopping after {STOP_DEADLINE_SECONDS:.0f} s; leaving anyway\n")
        sys.stderr.flush()
        os._exit(1)

    timer = threading.Timer(STOP_DEADLINE_SECONDS, leave)
    timer.daemon = True  # runs on through interpreter shutdown, which joins non-daemon threads
    timer.start()


def _schedule_line(schedules: list[LocalSchedule], scheduler: LocalScheduler) -> str:
    if not schedules:
        return "  schedule     (the template has none)"
    parts = []
    for local in schedules:
        info = local.schedule
        state = "enabled" if info.enabled else "disabled"
        parts.append(f"{local.logical_id} {info.expression.text} {info.zone.key}, {state}")
    due = scheduler.next_due()
    line = "  schedule     " + "; ".join(parts)
    if due is not None:
        line += f"; next {due:%Y-%m-%d %H:%M} UTC"
    return line + f"  ({SCHEDULE_VARIABLE}=N fires it every N minutes)"


def run_stack(settings: RunSettings, claims: dict[str, socket.socket]) -> int:
    """Run until a stop signal; `claims` holds each port of `settings.ports()` open (settings.claim_ports)."""
    # Handlers log through Powertools (JSON to stdout); keep moto's and werkzeug's request lines out.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    log.setLevel(logging.INFO)
    logging.getLogger("local.stack.scheduler").setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_stop_signal(stopping))
    stops: list[Callable[[], None]] = []
    try:
        pco_base_url = settings.pco_base_url
        sandbox: RunningSandbox | None = None
        if pco_base_url is None:
            sandbox_claim = claims.pop("SANDBOX_PORT")
            # The sandbox keeps its own credentials, as a real PCO has its own (SANDBOX_ADOPT_CREDENTIALS=1
            # makes it accept the stack's): a wrong PCO_SECRET is refused with 401, as PCO would.
            accepted = sandbox_credentials(
                os.environ,
                own=SandboxCredentials(LOCAL_APP_ID, LOCAL_SECRET, LOCAL_WEBHOOK_SECRET),
                stack=SandboxCredentials(settings.app_id, settings.secret, settings.webhook_secret or None),
            )
            sandbox = start_sandbox(
                port=sandbox_claim.getsockname()[1],
                people=settings.sandbox_people,
                seed=settings.sandbox_seed,
                app_id=accepted.app_id,
                secret=accepted.secret,
                webhook_secret=accepted.webhook_secret,
                deliver_webhooks=True,
                port_claim=sandbox_claim,
            )
            pco_base_url = sandbox.url
            stops.append(sandbox.stop)

        for name, value in AWS_TEST_ENV.items():
            os.environ.setdefault(name, value)
        moto = start_moto(claims.pop("MOTO_SERVER_PORT"))
        stops.append(moto.stop)
        os.environ["AWS_ENDPOINT_URL"] = moto.url

        api_claim = claims["API_PORT"]
        api_url = f"http://{HOST}:{api_claim.getsockname()[1]}"
        assembled = assemble(
            template_path=TEMPLATE_PATH,
            boto_session_or_endpoint=moto.url,
            params=stack_parameters(
                app_id=settings.app_id,
                secret=settings.secret,
                webhook_secret=settings.webhook_secret,
                pco_base_url=pco_base_url,
                schedule_every_minutes=settings.schedule_every_minutes,
            ),
            env_overrides={"PCO_BASE_URL": pco_base_url},
            issuer_key=load_or_create_key(DEFAULT_KEY_PATH),
            site_dir=SITE_DIR,
            api_endpoint=api_url,
        )
        stops.append(assembled.uninstall_dispatcher)
        api = serve(assembled.api_app, claims.pop("API_PORT"), "api-standin")
        stops.append(api.stop)
        # Lambda's SQS event sources: the webhook worker consumes its queue within a second.
        for source in assembled.event_sources:
            poller = SqsPoller(source, lambda: boto3.client("sqs", endpoint_url=moto.url, region_name=REGION))
            poller.start()
            stops.append(poller.stop)

        webhook_url = f"{api_url}/webhooks/pco"
        webhooks_line = f"  webhooks     {webhook_url}"
        if sandbox is not None:
            # The sandbox's hub signs with the stack's webhook secret and delivers every half second.
            count = sandbox.subscribe_webhooks(webhook_url)
            webhooks_line += f"  ({count} sandbox subscriptions; edit via {pco_base_url}/_sandbox)"
            pco_line = (
                f"  PCO sandbox  {pco_base_url}  (app id {settings.app_id}; "
                f"{settings.sandbox_people} people, seed {settings.sandbox_seed})"
            )
        else:
            webhooks_line += "  (PCO_BASE_URL is not the sandbox: subscribe in PCO yourself)"
            pco_line = f"  PCO          {pco_base_url}  (PCO_BASE_URL; app id {settings.app_id})"

        scheduler = LocalScheduler(assembled.schedules)
        token = assembled.issuer.issue_token("TECH_ADMIN")
        print(
            "\nPCO Sync is running locally\n"
            f"  admin page   {api_url}/  (sign in locally: pick a role)\n"
            f"  admin API    {api_url}/api\n"
            f"{pco_line}\n"
            f"  moto (AWS)   {moto.url}\n"
            f"{webhooks_line}\n"
            f"{_schedule_line(assembled.schedules, scheduler)}\n"
            f"\nBearer token for {local_email('TECH_ADMIN')} (TECH_ADMIN; also: make token ROLE=...):\n"
            f"{token}\n"
            "\nCtrl-C to stop.",
            flush=True,
        )
        stops.append(scheduler.stop)
        scheduler.start()
        while True:
            stopping.wait(1.0)  # a signal handler raises StopRequested out of this wait
    except StopRequested:
        return 0
    finally:
        stopping.set()  # from here on a second signal leaves at once
        _leave_if_stuck()
        for sock in claims.values():
            sock.close()
        for stop in reversed(stops):
            try:
                stop()
            except Exception:
                log.exception("while stopping the local stack")
