"""Starting, watching, failing and continuing sync runs: one at a time, guarded by the run lock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pco_core.clock import utc_now
from pco_core.errors import (
    ConfigError,
    InvalidLimit,
    InvalidRunType,
    RunActive,
    RunAlreadyEnded,
    RunAlreadyResumed,
    RunNotFound,
    RunNotResumable,
    RunStopping,
)
from pco_core.observability import Metric, count_run, logger
from pco_core.runs.ids import new_run_id
from pco_core.runstate import RUN_DOMAINS, RUN_LABELS, SKIPPED_ACTIVE, Run, RunFailures, RunProgress
from pco_core.settings import RunEnv
from pco_core.store.executions import ExecutionStarter
from pco_core.store.runs import RunLock, RunStore

DEFAULT_MAX_WAIT_SECONDS = 300
MAX_HISTORY = 100
LEASE_EXPIRED = "lease expired"
# A lock taken this long ago by a start that never got a page going (no run item, or a run whose
# execution never ran a page) is an orphan of a start that died between its steps.
START_GRACE_SECONDS = 120
NEVER_STARTED = "the run never started: its execution did not begin within the grace period"


def _epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


class RunService:
    def __init__(
        self,
        runs: RunStore,
        starter: ExecutionStarter | None,
        clock: Callable[[], datetime],
        lease_seconds: int,
        *,
        max_wait_seconds: int = DEFAULT_MAX_WAIT_SECONDS,
    ) -> None:
        self.runs = runs
        self.starter = starter
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.max_wait_seconds = max_wait_seconds

    @classmethod
    def from_env(cls, env: RunEnv, *, max_wait_seconds: int = DEFAULT_MAX_WAIT_SECONDS) -> RunService:
        """The deployed wiring: the sync-state table, the sync-run state machine, the real clock."""
        return cls(
            RunStore(env.state_table),
            ExecutionStarter(env.sync_state_machine_arn),
            utc_now,
            env.run_lease_seconds,
            max_wait_seconds=max_wait_seconds,
        )

    def start_run(self, run_type: str, started_by: str) -> Run:
        """Create a RUNNING run, take the lock for it and start its first execution."""
        if run_type not in RUN_LABELS:
            raise InvalidRunType(run_type, list(RUN_LABELS))
        now = self.clock()
        domains = list(RUN_DOMAINS[run_type])
        run = Run(
            id=new_run_id(now),
            type=run_type,
            label=RUN_LABELS[run_type],
            status="RUNNING",
            started_at=now,
            started_by=started_by,
            domains=domains,
            progress=RunProgress(domain=domains[0]),
        )
        return self._launch(run)

    def resume_run(self, run_id: str, started_by: str) -> Run:
        """Resume a FAILED run: a new run of its type that starts at the cursor its last committed page left.

        A new run rather than the same one brought back to life: a finished run never changes status again
        (a late FailRun of its old execution cannot end the resumed work), its failure stays in the history,
        and the lock and cancel rules need no exception. Its counters are its own work. Each failed run is
        resumed at most once; a resumed run that fails can be resumed in turn.
        """
        failed = self.get_run(run_id)
        if failed.status != "FAILED":
            raise RunNotResumable(run_id, failed.status)
        if failed.resumed_by is not None:
            raise RunAlreadyResumed(run_id, failed.resumed_by)
        now = self.clock()
        run = Run(
            id=new_run_id(now),
            type=failed.type,
            label=failed.label,
            status="RUNNING",
            started_at=now,
            started_by=started_by,
            domains=list(failed.domains),
            cursor=failed.cursor,
            progress=failed.progress,
            resumed_from=failed.id,
        )

        def claim() -> None:
            if not self.runs.claim_resume(failed.id, run.id):
                latest = self.get_run(failed.id)
                if latest.resumed_by is not None:
                    raise RunAlreadyResumed(run_id, latest.resumed_by)
                raise RunNotResumable(run_id, latest.status)

        return self._launch(run, before_start=claim)

    def _launch(self, run: Run, before_start: Callable[[], None] = lambda: None) -> Run:
        """Take the lock for `run`, run `before_start`, write the run and start its first execution."""
        starter = self._starter()
        self._clear_dead_runs(run.started_at)
        if not self.runs.acquire_lock(run.id, run.started_at, self.lease_seconds):
            raise RunActive(self.runs.lock_holder(run.started_at))
        try:
            before_start()
        except (RunNotResumable, RunAlreadyResumed):
            self.runs.release_lock(run.id)
            raise
        try:
            # Where its incremental domains begin: what the runs completed before it (none runs now) read.
            run = run.model_copy(update={"watermarks": self.runs.get_watermarks()})
            self.runs.put_run(run)
            starter.start(run.id, {"run_id": run.id, "max_wait_seconds": self.max_wait_seconds})
        except Exception as exc:
            # Leave no RUNNING run and no held lock behind; the caller still sees the error.
            self.runs.finish_run(
                run.id,
                "FAILED",
                error=f"could not start the run: {type(exc).__name__}",
                finished_at=self.clock(),
            )
            self.runs.release_lock(run.id)
            raise
        logger.info(
            "run started", extra={"run_id": run.id, "run_type": run.type, "resumed_from": run.resumed_from}
        )
        count_run(Metric.RUNS_STARTED, run.type)
        return run

    def current_run(self) -> Run | None:
        """The RUNNING run holding a live lease, if any."""
        holder = self.runs.lock_holder(self.clock())
        if holder is None:
            return None
        run = self.runs.get_run(holder)
        return run if run is not None and run.status == "RUNNING" else None

    def get_run(self, run_id: str) -> Run:
        run = self.runs.get_run(run_id)
        if run is None:
            raise RunNotFound(run_id)
        return run

    def list_failures(self, run_id: str) -> RunFailures:
        """The records the run could not sync (the first MAX_KEPT_FAILURES) and how many failed in all."""
        run = self.get_run(run_id)
        kept = self.runs.list_failures(run_id)
        return RunFailures(run_id=run_id, total=max(run.failed, len(kept)), kept=len(kept), failures=kept)

    def list_runs(self, limit: int) -> list[Run]:
        if not 1 <= limit <= MAX_HISTORY:
            raise InvalidLimit(1, MAX_HISTORY)
        return self.runs.list_runs(limit)

    def fail_run(self, run_id: str, error: str) -> None:
        """Mark the run FAILED (if still RUNNING) and release its lock; calling it again changes nothing."""
        failed = self.runs.finish_run(run_id, "FAILED", error=error, finished_at=self.clock())
        run = self.get_run(run_id)  # RunNotFound for an unknown run; a finished run stays as it ended
        self.runs.release_lock(run_id)
        if failed:
            count_run(Metric.RUNS_FAILED, run.type)
        logger.info("run failed", extra={"run_id": run_id, "error": error})

    def cancel_run(self, run_id: str) -> Run:
        """Stop a RUNNING run: CANCELLED with its counters kept; RunAlreadyEnded if it ended.

        The lock is released at once only when no page of the run is in flight. A page in flight may be
        writing to PCO: it keeps the lock until it has seen the cancel (its commit is refused, then it
        releases the lock) or its Lambda's time budget has passed, so a new run cannot push the same
        records while it still writes. The execution's next page finds the run over and ends.
        """
        if not self.runs.finish_run(run_id, "CANCELLED", error=None, finished_at=self.clock()):
            ended = self.get_run(run_id)  # RunNotFound for an unknown run
            raise RunAlreadyEnded(run_id, ended.status, "cancel")
        released = self.runs.release_lock_if_idle(run_id, self.clock())
        logger.info("run cancelled", extra={"run_id": run_id, "lock_released": released})
        cancelled = self.get_run(run_id)
        count_run(Metric.RUNS_CANCELLED, cancelled.type)
        return cancelled

    def record_skipped_run(self, run_type: str, started_by: str, active_run_id: str | None) -> Run:
        """Record in the history a start that did not happen because a run was active (no lock taken)."""
        now = self.clock()
        run = Run(
            id=new_run_id(now),
            type=run_type,
            label=RUN_LABELS[run_type],
            status="CANCELLED",
            started_at=now,
            finished_at=now,
            duration_seconds=0.0,
            started_by=started_by,
            skip_reason=SKIPPED_ACTIVE,
            domains=list(RUN_DOMAINS.get(run_type, [])),
        )
        self.runs.put_run(run)
        logger.info("run skipped", extra={"run_id": run.id, "active_run_id": active_run_id or "(unknown)"})
        return run

    def continue_run(self, run_id: str, max_wait_seconds: int) -> str:
        """Start a fresh execution of a RUNNING run (continue-as-new); its ARN.

        The execution is named `<run id>-<page_seq>`: a retried step finds the execution it already
        started instead of starting a second one.
        """
        starter = self._starter()
        run = self.get_run(run_id)
        if run.status != "RUNNING":
            raise RunAlreadyEnded(run_id, run.status, "continue")
        self.runs.reset_execution_pages(run_id)
        return starter.start(
            f"{run_id}-{run.page_seq}", {"run_id": run_id, "max_wait_seconds": max_wait_seconds}
        )

    def _starter(self) -> ExecutionStarter:
        if self.starter is None:
            raise ConfigError("no state machine is configured to run syncs")
        return self.starter

    def _clear_dead_runs(self, now: datetime) -> None:
        """Fail RUNNING runs whose lease has expired and free a lock kept by a run that is over.

        The latest run is read before the lock: a run that exists by then took the lock before it was
        written, so if the lock is no longer its own, that run is dead.
        """
        latest = self.runs.list_runs(1)
        lock = self.runs.lock_state()
        if lock is not None and lock.live_at(now):
            holder = next((r for r in latest if r.id == lock.run_id), None) or self.runs.get_run(lock.run_id)
            self._free_or_refuse(lock, holder, now)
        elif lock is not None:
            expired = self.runs.get_run(lock.run_id)
            if expired is not None and expired.status == "RUNNING":
                self._fail_dead(expired.id, now)
        # Any other RUNNING run holds no live lease (the live holder raised RunActive above).
        for run in latest:
            if run.status == "RUNNING":
                self._fail_dead(run.id, now)

    def _free_or_refuse(self, lock: RunLock, holder: Run | None, now: datetime) -> None:
        """A live lock: refused while its run may still write, else (an orphan) it is released."""
        if lock.page_in_flight_at(now):
            if holder is not None and holder.status != "RUNNING":
                raise RunStopping(lock.run_id, holder.status, lock.seconds_until_page_ends(now))
            raise RunActive(lock.run_id)
        never_began = (
            lock.beat_at is None
            and lock.taken_at is not None
            and _epoch_seconds(now) - lock.taken_at >= START_GRACE_SECONDS
        )
        if holder is None:
            if not never_began:
                raise RunActive(lock.run_id)  # a start in progress: its run item is being written
            logger.warning("orphan lock of a start that died released", extra={"run_id": lock.run_id})
        elif holder.status == "RUNNING":
            if not never_began or holder.page_seq > 0:
                raise RunActive(lock.run_id)
            # Its start died after writing the run and before its execution ran a page.
            if self.runs.finish_run(holder.id, "FAILED", error=NEVER_STARTED, finished_at=now):
                count_run(Metric.RUNS_FAILED, holder.type)
            logger.warning("run never started; marked failed", extra={"run_id": holder.id})
        # Otherwise the run ended but its lock outlived it (e.g. a crash before the release).
        self.runs.release_lock(lock.run_id)

    def _fail_dead(self, run_id: str, now: datetime) -> None:
        if self.runs.finish_run(run_id, "FAILED", error=LEASE_EXPIRED, finished_at=now):
            logger.warning("run lease expired; marked failed", extra={"run_id": run_id})
            dead = self.runs.get_run(run_id)
            count_run(Metric.RUNS_FAILED, dead.type if dead is not None else "unknown")
