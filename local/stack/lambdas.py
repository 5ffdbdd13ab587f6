"""The real handlers behind moto's Lambda: load functions/<name>/app.py and dispatch invocations to them.

Environment choice: every handler of this project reads its settings from os.environ (and caches what it
builds from them), and all functions share the same table, secret and machine names. So the local stack
sets os.environ once for the whole process (LocalResources.shared_environment()) before any handler runs,
instead of swapping variables per call, which would race between Step Functions' threads and the API.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import LambdaBackend

from local.stack.template import ACCOUNT_ID, REGION, FunctionDef

Handler = Callable[[Any, Any], Any]

_module_counter = itertools.count(1)
_install_lock = threading.Lock()


def load_handler(fn: FunctionDef) -> Handler:
    """The function's handler, imported by file path under a module name unique to this load."""
    path = fn.module_file
    module_name = f"pco_local_fn_{fn.logical_id}_{next(_module_counter)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {fn.logical_id} from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = getattr(module, fn.handler_attribute)
    return handler


def load_handlers(functions: Mapping[str, FunctionDef]) -> dict[str, Handler]:
    """Handlers keyed by function name and by function ARN (what Step Functions and boto3 pass)."""
    handlers: dict[str, Handler] = {}
    for fn in functions.values():
        handler = load_handler(fn)
        handlers[fn.name] = handler
        handlers[f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{fn.name}"] = handler
    return handlers


@dataclass
class LambdaContext:
    """The attributes of the Lambda runtime's context object that Powertools and handlers read."""

    function_name: str
    memory_limit_in_mb: int = 256
    timeout_seconds: float = 30.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if not self.invoked_function_arn:
            self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def function_name_of(name_or_arn: str) -> str:
    """`my-fn`, `my-fn:alias`, `123456789012:function:my-fn` or a full ARN -> `my-fn`."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    if ":function:" in name_or_arn:
        return name_or_arn.split(":function:")[1].split(":")[0]
    return name_or_arn.split(":")[0]


def error_payload(exc: BaseException) -> dict[str, Any]:
    """What the Lambda runtime returns for an unhandled exception (errorType = the class name)."""
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc)[1:],
    }


def invoke_handler(
    handler: Handler,
    function_name: str,
    event: Any,
    *,
    timeout_seconds: float = 30.0,
    memory_limit_in_mb: int = 256,
) -> tuple[Any, bool]:
    """Run one invocation: (result, False) or (error payload, True) when the handler raised."""
    context = LambdaContext(
        function_name=function_name, timeout_seconds=timeout_seconds, memory_limit_in_mb=memory_limit_in_mb
    )
    try:
        return handler(event, context), False
    except Exception as exc:
        return error_payload(exc), True


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return None if value is None else str(value)


@contextmanager
def lambda_dispatcher(
    handlers: Mapping[str, Handler], *, functions: Mapping[str, FunctionDef] | None = None
) -> Iterator[None]:
    """install_lambda_dispatcher for the duration of a with-block."""
    uninstall = install_lambda_dispatcher(handlers, functions=functions)
    try:
        yield
    finally:
        uninstall()


def install_lambda_dispatcher(
    handlers: Mapping[str, Handler], *, functions: Mapping[str, FunctionDef] | None = None
) -> Callable[[], None]:
    """Replace moto's LambdaBackend.invoke so any invoke runs the real handler; returns the uninstaller.

    `handlers` is keyed by function name or ARN; `functions` (by logical id) gives timeout and memory for
    the context object. Unknown function names fall through to moto's own invoke (ResourceNotFound).
    """
    by_name = {function_name_of(key): handler for key, handler in handlers.items()}
    limits = {fn.name: (float(fn.timeout), fn.memory_size) for fn in (functions or {}).values()}
    with _install_lock:
        original = LambdaBackend.invoke

        def invoke(
            self: LambdaBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> str | bytes | None:
            handler = by_name.get(function_name_of(function_name))
            if handler is None:
                return original(self, function_name, qualifier, body, headers, response_headers)
            if isinstance(body, bytes):
                body = body.decode("utf-8")
            event = json.loads(body) if body else {}
            name = function_name_of(function_name)
            timeout, memory = limits.get(name, (30.0, 256))
            if _header(headers, "X-Amz-Invocation-Type") == "Event":
                threading.Thread(
                    target=invoke_handler,
                    args=(handler, name, event),
                    kwargs={"timeout_seconds": timeout, "memory_limit_in_mb": memory},
                    name=f"lambda-{name}",
                    daemon=True,
                ).start()
                payload = b""
            else:
                result, errored = invoke_handler(
                    handler, name, event, timeout_seconds=timeout, memory_limit_in_mb=memory
                )
                if errored:
                    response_headers["x-amz-function-error"] = "Unhandled"
                payload = json.dumps(result).encode("utf-8")
            response_headers["Content-Length"] = str(len(payload))
            return payload

        LambdaBackend.invoke = invoke  # type: ignore[method-assign]

    def uninstall() -> None:
        with _install_lock:
            LambdaBackend.invoke = original  # type: ignore[method-assign]

    return uninstall
