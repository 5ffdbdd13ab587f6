"""Start part A's PCO sandbox in this process (for `make run` and the integration fixtures).

The one place that knows how the sandbox is built: adjust here if local/sandbox's constructors change.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

HOST = "127.0.0.1"


def _call_with_known(fn: Callable[..., Any], *args: Any, **candidates: Any) -> Any:
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(*args, **candidates)
    return fn(*args, **{k: v for k, v in candidates.items() if k in params})


def start_sandbox(
    *, port: int, people: int, seed: int, app_id: str, secret: str
) -> tuple[str, Callable[[], None], Any]:
    """(base URL, stop, the Sandbox object) of a seeded sandbox served on 127.0.0.1:port (0 = any)."""
    import local.sandbox as sandbox_pkg

    generator = importlib.import_module("local.sandbox.generator")

    sandbox = _call_with_known(sandbox_pkg.Sandbox, app_id=app_id, secret=secret)  # type: ignore[attr-defined]
    seed_fn = next(
        getattr(generator, name) for name in ("generate", "seed", "populate") if hasattr(generator, name)
    )
    _call_with_known(seed_fn, sandbox, people=people, seed=seed)
    app = sandbox_pkg.create_app(sandbox)  # type: ignore[attr-defined]
    server = _call_with_known(sandbox_pkg.SandboxServer, app, host=HOST, port=port)  # type: ignore[attr-defined]
    server.start()
    return str(server.url), server.stop, sandbox
