"""SQS dead-letter redrive for the local stack: StartMessageMoveTask and ListMessageMoveTasks on moto.

moto (5.2) answers both with "not implemented", so the admin page's "Replay dead letters" would fail under
`make run` and the replay could only be tested against a stub. This adds them to moto's SQS responder, the
way SQS behaves for what PCO Sync uses: a task moves every visible message of a dead-letter queue to the
`DestinationArn`, or without one back to the queue whose redrive policy names it; each message arrives as a
new message (receive count 0), and the task is listed afterwards as COMPLETED with its counts. Moves finish
within the call (real SQS moves at up to 500 messages/s in the background), so no task is ever RUNNING here.

`install()` is idempotent and steps aside once moto implements the operations itself.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from moto.core.responses import ActionResult
from moto.sqs.exceptions import QueueDoesNotExist
from moto.sqs.models import Queue, SQSBackend
from moto.sqs.responses import SQSResponse

_lock = threading.Lock()


@dataclass
class _Task:
    handle: str
    source_arn: str
    destination_arn: str | None
    moved: int
    to_move: int
    started_ms: int

    def listed(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "TaskHandle": self.handle,
            "Status": "COMPLETED",
            "SourceArn": self.source_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started_ms,
        }
        if self.destination_arn is not None:
            result["DestinationArn"] = self.destination_arn
        return result


# Tasks per (account, region, source queue ARN), newest first.
_tasks: dict[tuple[str, str, str], list[_Task]] = {}


def _queue_by_arn(backend: SQSBackend, arn: str) -> Queue:
    for queue in backend.queues.values():
        if queue.queue_arn == arn:
            return queue
    raise QueueDoesNotExist()


def move_messages(backend: SQSBackend, source_arn: str, destination_arn: str | None) -> int:
    """Move every visible message of the source queue; how many were moved."""
    source = _queue_by_arn(backend, source_arn)
    if destination_arn is not None:
        destination = _queue_by_arn(backend, destination_arn)
    else:
        sources = backend.list_dead_letter_source_queues(source.name)
        if not sources:
            raise QueueDoesNotExist()
        destination = sources[0]
    with _lock:
        waiting = list(source.messages)
        for message in waiting:
            backend.send_message(
                destination.name, message.body, message_attributes=message.message_attributes
            )
        with source._messages_lock:
            source._messages = [m for m in source._messages if m not in waiting]
    return len(waiting)


def _start_message_move_task(self: SQSResponse) -> ActionResult:
    source_arn = str(self._get_param("SourceArn"))
    destination = self._get_param("DestinationArn")
    destination_arn = str(destination) if destination else None
    moved = move_messages(self.sqs_backend, source_arn, destination_arn)
    task = _Task(
        handle=uuid.uuid4().hex,
        source_arn=source_arn,
        destination_arn=destination_arn,
        moved=moved,
        to_move=moved,
        started_ms=int(time.time() * 1000),
    )
    _tasks.setdefault((self.current_account, self.region, source_arn), []).insert(0, task)
    return ActionResult({"TaskHandle": task.handle})


def _list_message_move_tasks(self: SQSResponse) -> ActionResult:
    source_arn = str(self._get_param("SourceArn"))
    _queue_by_arn(self.sqs_backend, source_arn)
    limit = int(self._get_param("MaxResults") or 1)
    tasks = _tasks.get((self.current_account, self.region, source_arn), [])[:limit]
    return ActionResult({"Results": [task.listed() for task in tasks]})


def install() -> None:
    """Give moto's SQS the two operations (once; never over moto's own)."""
    if getattr(SQSResponse, "start_message_move_task", None) is not None:
        return
    SQSResponse.start_message_move_task = _start_message_move_task  # type: ignore[attr-defined]
    SQSResponse.list_message_move_tasks = _list_message_move_tasks  # type: ignore[attr-defined]
