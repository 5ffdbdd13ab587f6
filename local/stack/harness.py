"""The local stack in-process (moto's mock_aws, no HTTP for AWS) for integration tests and benchmarks.

with LocalStack.start(sandbox.url, "app-id", "secret") as stack:
    status, body = stack.api("POST", "/api/runs", json={"type": "pull_people"}, role="TECH_ADMIN")
    run = stack.wait_for_run(body["run_id"], timeout=30)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws

from local.stack.assembly import SITE_DIR, TEMPLATE_PATH, AssembledStack, assemble, stack_parameters
from local.stack.auth import DevIssuer
from local.stack.sqs_events import BatchOutcome, SqsPoller
from local.stack.template import REGION

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}}
AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
TERMINAL_EXECUTION = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
POLL_SECONDS = 0.02
_deserializer = TypeDeserializer()


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


@dataclass
class LocalStack:
    """A running in-process stack: resources from template.yaml, real handlers, the API stand-in."""

    assembled: AssembledStack
    issuer: DevIssuer
    session: boto3.Session
    _pollers: list[SqsPoller] | None = field(default=None, init=False, repr=False)

    @classmethod
    @contextmanager
    def start(
        cls,
        pco_base_url: str,
        app_id: str,
        secret: str,
        *,
        webhook_secret: str = "",
        extra_env: Mapping[str, str] | None = None,
        template_path: Path = TEMPLATE_PATH,
        site_dir: Path | None = SITE_DIR,
    ) -> Iterator[LocalStack]:
        saved = dict(os.environ)
        os.environ.update(AWS_TEST_ENV)
        # A custom endpoint would take boto3 past mock_aws's interception.
        os.environ.pop("AWS_ENDPOINT_URL", None)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        mock = mock_aws(config=MOTO_CONFIG)  # type: ignore[call-overload]  # a partial DefaultConfig
        mock.start()
        stack: LocalStack | None = None
        try:
            assembled = assemble(
                template_path=template_path,
                boto_session_or_endpoint=None,
                params=stack_parameters(
                    app_id=app_id, secret=secret, webhook_secret=webhook_secret, pco_base_url=pco_base_url
                ),
                env_overrides={"PCO_BASE_URL": pco_base_url, **(extra_env or {})},
                issuer_key=key,
                site_dir=site_dir,
                api_endpoint="http://127.0.0.1",
            )
            stack = cls(assembled, assembled.issuer, boto3.Session(region_name=REGION))
            yield stack
        finally:
            try:
                if stack is not None:
                    stack.stop_running_executions()
                    stack.assembled.uninstall_dispatcher()
            finally:
                mock.stop()
                os.environ.clear()
                os.environ.update(saved)

    # ------------------------------------------------------------------ clients and names
    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=REGION)  # type: ignore[call-overload]

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def stepfunctions(self) -> Any:
        return self.client("stepfunctions")

    @property
    def sqs(self) -> Any:
        return self.client("sqs")

    @property
    def secretsmanager(self) -> Any:
        return self.client("secretsmanager")

    @property
    def environment(self) -> dict[str, str]:
        """What every handler sees (RECORDS_TABLE, STATE_TABLE, SYNC_STATE_MACHINE_ARN, ...)."""
        return dict(self.assembled.environment)

    @property
    def resources(self) -> Any:
        return self.assembled.resources

    def env(self, name: str) -> str:
        return self.assembled.environment[name]

    # ------------------------------------------------------------------ API
    def token(self, role: str, *, email: str | None = None, ttl: int = 3600) -> str:
        return self.issuer.issue_token(role, email=email, ttl=ttl)

    def api(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        role: str | None = None,
        headers: Mapping[str, str] | None = None,
        data: bytes | str | None = None,
    ) -> tuple[int, Any]:
        """One request through the API stand-in (JWT check + payload 2.0 event): (status, JSON or text)."""
        all_headers = dict(headers or {})
        if role is not None and token is None:
            token = self.token(role)
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        client = self.assembled.api_app.test_client()
        response = client.open(path, method=method, json=json, data=data, headers=all_headers)
        text = response.get_data(as_text=True)
        try:
            return response.status_code, _json_loads(text)
        except ValueError:
            return response.status_code, text

    def invoke(self, function_logical_id: str, event: Any) -> Any:
        """Call a function's handler the way Lambda would (through moto's Lambda API)."""
        name = self.resources.functions[function_logical_id].name
        response = self.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
        payload = _json_loads(response["Payload"].read().decode() or "null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{function_logical_id} failed: {payload}")
        return payload

    # ------------------------------------------------------------------ waiting (always with a deadline)
    def wait_for_execution(self, arn: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            desc: dict[str, Any] = self.stepfunctions.describe_execution(executionArn=arn)
            if desc["status"] in TERMINAL_EXECUTION:
                return desc
            if time.monotonic() >= deadline:
                raise TimeoutError(f"execution {arn} still {desc['status']} after {timeout}s")
            time.sleep(POLL_SECONDS)

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(
            TableName=self.env("STATE_TABLE"),
            Key={"pk": {"S": "RUN"}, "sk": {"S": run_id}},
            ConsistentRead=True,
        ).get("Item")
        return _plain(item) if item else None

    def running_executions(self, prefix: str = "") -> list[str]:
        arns = []
        for machine_arn in self.resources.state_machines.values():
            pages = self.stepfunctions.get_paginator("list_executions").paginate(
                stateMachineArn=machine_arn, statusFilter="RUNNING"
            )
            arns += [
                e["executionArn"] for p in pages for e in p["executions"] if e["name"].startswith(prefix)
            ]
        return arns

    def wait_for_run(self, run_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """The run's item once its status left RUNNING and no execution of it is still running."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if run is not None and run.get("status") != "RUNNING" and not self.running_executions(run_id):
                return run
            if time.monotonic() >= deadline:
                status = run.get("status") if run else "missing"
                raise TimeoutError(f"run {run_id} still {status} after {timeout}s")
            time.sleep(POLL_SECONDS)

    def execution_history(self, arn: str) -> list[dict[str, Any]]:
        pages = self.stepfunctions.get_paginator("get_execution_history").paginate(executionArn=arn)
        return [event for page in pages for event in page["events"]]

    # ------------------------------------------------------------------ SQS event sources
    def pollers(self) -> list[SqsPoller]:
        """One poller per SQS event source; failed messages are visible again at once (no wait)."""
        if self._pollers is None:
            self._pollers = [
                SqsPoller(source, lambda: self.sqs, retry_visibility_seconds=0)
                for source in self.assembled.event_sources
                if source.enabled
            ]
        return self._pollers

    def drain_queues(self, timeout: float = 30.0) -> list[BatchOutcome]:
        """Run the SQS event sources in this thread until every polled queue is empty (or the deadline).

        Failed messages come back at once, so a message failing for good goes through SQS's redrive to its
        dead-letter queue (moto moves it on the receive past maxReceiveCount) within the deadline.
        Returns every batch's outcome, in order.
        """
        deadline = time.monotonic() + timeout
        outcomes: list[BatchOutcome] = []
        while True:
            got = [p.poll_once(wait_seconds=0) for p in self.pollers()]
            outcomes += [o for o in got if o.received]
            if not any(o.received for o in got) and self._queues_empty():
                return outcomes
            if time.monotonic() >= deadline:
                raise TimeoutError(f"queues not drained after {timeout}s ({len(outcomes)} batches)")

    def _queues_empty(self) -> bool:
        for poller in self.pollers():
            attrs = self.sqs.get_queue_attributes(
                QueueUrl=poller.source.queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if int(attrs["ApproximateNumberOfMessages"]) or int(
                attrs["ApproximateNumberOfMessagesNotVisible"]
            ):
                return False
        return True

    def queue_messages(self, queue_logical_id: str) -> int:
        """How many messages a queue of the template holds (visible or in flight)."""
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.resources.queues[queue_logical_id],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def stop_running_executions(self) -> None:
        for arn in self.running_executions():
            self.stepfunctions.stop_execution(executionArn=arn, error="LocalStackStopped")


def _json_loads(text: str) -> Any:
    return json.loads(text)
