"""What the sync page Lambda calls: its event model and one call into the pull page."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pco_core.runs.models import PageResult
from pco_core.sync.page import PullDeps, run_pull_page

__all__ = ["PageRequest", "PullDeps", "run_page"]


class PageRequest(BaseModel):
    """The state machine's input: `{"run_id", "max_wait_seconds"}`; other keys (e.g. `page`) are ignored."""

    model_config = ConfigDict(extra="ignore")

    run_id: str = Field(min_length=1)
    max_wait_seconds: int = Field(ge=0)


def run_page(request: PageRequest, deps: PullDeps, *, page_seconds: int | None = None) -> PageResult:
    """`page_seconds`: the invocation's remaining time (the Lambda context's), when known."""
    if page_seconds is None:
        return run_pull_page(request.run_id, request.max_wait_seconds, deps)
    return run_pull_page(request.run_id, request.max_wait_seconds, deps, page_seconds=page_seconds)
