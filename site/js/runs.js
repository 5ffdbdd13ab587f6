// The "Run a sync" buttons and the progress card: start a run, watch the active one (ours or one started
// elsewhere) every few seconds, cancel it after a confirmation, and show how it ended.

import { ApiError } from "./api.js";
import { explainCaught, explainError } from "./errors.js";
import {
  countsSplitText,
  domainLabel,
  driftWarning,
  elapsedSeconds,
  formatCount,
  formatDuration,
  formatLocalTime,
  formatTimeLeft,
  nextBaseline,
  overallPercent,
  progressText,
  runOutcome,
  runSecondsLeft,
  runSummary,
  startedByText,
  totalsText,
  waitSecondsLeft,
  waitText,
} from "./format.js";
import { Poller } from "./poller.js";
import { renderStatusBadge, showMessage } from "./ui.js";

const RUN_POLL_MS = 3000;
const WAIT_TICK_MS = 1000; // the wait's countdown moves every second between polls
const CURRENT_RUN = "the current run"; // names this section's page error, so a later success clears it

export class RunsCard {
  /**
   * @param {{api: import("./api.js").ApiClient, handleAuthError: (err: unknown) => boolean,
   *          announce: (text: string) => void,
   *          showPageError: (message: object, prefix: string, source: string) => void,
   *          clearPageError: (source: string) => void}} deps
   * @param {{refreshAfterRun: () => Promise<void>, findRun: (id: string) => object | undefined,
   *          onWatching: (watching: boolean) => void,
   *          openFailures: (run: object, opener: HTMLElement) => void}} hooks
   *   refreshAfterRun reloads the lists once a run ended; findRun then reads the ended run from them;
   *   onWatching says when watching a run starts and stops (the app pauses its idle refresh meanwhile).
   */
  constructor({ api, handleAuthError, announce, showPageError, clearPageError }, hooks, doc = document) {
    this.api = api;
    this.handleAuthError = handleAuthError;
    this.announce = announce;
    this.showPageError = showPageError;
    this.clearPageError = clearPageError;
    this.hooks = hooks;
    this.activeRun = null; // the RUNNING run being watched, or null
    this.baseline = null; // where the time-left estimate measures from
    this.lastMilestone = -1;
    this.starting = false;
    this.checking = false;
    this.conflictShown = false; // the run error says another run is (or was) active
    this.poller = new Poller(() => this.pollTick(), RUN_POLL_MS, doc);
    this.el = {
      buttons: [...doc.querySelectorAll("[data-run-type]")],
      lockNote: doc.getElementById("sync-lock-note"),
      runError: doc.getElementById("run-error"),
      card: doc.getElementById("progress-card"),
      title: doc.getElementById("progress-title"),
      spinner: doc.getElementById("progress-spinner"),
      cancel: doc.getElementById("cancel-run"),
      label: doc.getElementById("progress-label"),
      status: doc.getElementById("progress-status"),
      started: doc.getElementById("progress-started"),
      domain: doc.getElementById("progress-domain"),
      percent: doc.getElementById("progress-percent"),
      bar: doc.getElementById("progress-bar"),
      fill: doc.getElementById("progress-fill"),
      eta: doc.getElementById("progress-eta"),
      totals: doc.getElementById("progress-totals"),
      drift: doc.getElementById("progress-drift"),
      progressError: doc.getElementById("progress-error"),
      failuresNote: doc.getElementById("progress-failures-note"),
      failures: doc.getElementById("progress-failures"),
      dialog: doc.getElementById("cancel-dialog"),
      dialogRun: doc.getElementById("cancel-dialog-run"),
      split: doc.getElementById("count-split"),
      counts: {
        created: doc.getElementById("count-created"),
        updated: doc.getElementById("count-updated"),
        skipped: doc.getElementById("count-skipped"),
        failed: doc.getElementById("count-failed"),
        conflicts: doc.getElementById("count-conflicts"),
      },
    };
    for (const button of this.el.buttons) button.addEventListener("click", (event) => this.start(event));
    this.el.cancel.addEventListener("click", () => this.askToCancel());
    this.el.dialog.addEventListener("close", () => this.onDialogClosed());
    this.el.failures.addEventListener("click", () => {
      if (this.shownRun) this.hooks.openFailures(this.shownRun, this.el.failures);
    });
    this.shownRun = null; // the run the card shows, for its "View failed records" button
    this.waits = new Map(); // until (ISO) -> when this page first saw that wait (ms): the ETA leaves them out
    this.waitTicker = null;
  }

  /** Milliseconds the watched run has spent waiting (as far as this page saw), up to `nowMs`. */
  waitedMs(nowMs) {
    let total = 0;
    for (const [until, seenMs] of this.waits) total += Math.max(0, Math.min(nowMs, Date.parse(until)) - seenMs);
    return total;
  }

  renderWait(run, now) {
    const left = waitSecondsLeft(run, now);
    if (left === null) {
      this.stopWaitTicker();
      return false;
    }
    if (!this.waits.has(run.waiting.until)) this.waits.set(run.waiting.until, now);
    const elapsed = formatDuration(elapsedSeconds(run.started_at, now));
    this.el.eta.textContent = `${waitText(left, run.waiting)} · running for ${elapsed}`;
    if (!this.waitTicker) {
      this.waitTicker = setInterval(() => {
        if (!this.activeRun || this.renderWait(this.activeRun, Date.now()) === false) this.stopWaitTicker();
      }, WAIT_TICK_MS);
    }
    return true;
  }

  stopWaitTicker() {
    if (this.waitTicker) clearInterval(this.waitTicker);
    this.waitTicker = null;
  }

  get watching() {
    return this.activeRun !== null;
  }

  updateButtons() {
    const locked = this.watching || this.starting;
    for (const button of this.el.buttons) button.disabled = locked;
    this.el.lockNote.hidden = !this.watching;
  }

  showRunError(message, prefix, { conflict = false } = {}) {
    showMessage(this.el.runError, message, prefix);
    this.conflictShown = conflict && Boolean(message);
  }

  /** Drop a "another run is active" error once no run is: it would only mislead (e.g. in a second tab). */
  clearConflict() {
    if (this.conflictShown) this.showRunError(null);
  }

  async start(event) {
    const button = event.currentTarget;
    const label = button.textContent.trim();
    await this.launch(label, () => this.api.startRun(button.dataset.runType));
  }

  /** Resume a failed run (from the history): a new run that goes on from where that one stopped. */
  async resume(failedRun) {
    const label = `${failedRun.label || failedRun.type} (resumed)`;
    if (this.watching) {
      this.showRunError("A run is active: resume this one once it has ended.");
      return;
    }
    await this.launch(label, () => this.api.resumeRun(failedRun.id));
    if (this.watching) await this.hooks.refreshAfterRun();
  }

  /** Start a run with `request` and watch it; `label` names it in messages. */
  async launch(label, request) {
    if (this.watching || this.starting) return;
    this.showRunError(null);
    this.starting = true;
    this.updateButtons();
    try {
      const run = await request();
      this.starting = false;
      this.watch(run);
      this.announce(`${run.label || label} started.`);
      // The clicked button is now disabled: move focus somewhere useful rather than losing it.
      this.el.title.focus({ preventScroll: true });
      this.el.card.scrollIntoView({ block: "nearest", behavior: "smooth" });
    } catch (err) {
      this.starting = false;
      if (this.handleAuthError(err)) return;
      const conflict = err instanceof ApiError && err.status === 409;
      this.showRunError(explainCaught(err), `Could not start ${label}`, { conflict });
      // Someone (or the schedule) started a run: show it, or say it is over already.
      if (conflict && (await this.checkForActiveRun()) === false) {
        const ended = `Another run was active and has just ended: press ${label} again to start it.`;
        this.showRunError(ended, "", { conflict: true });
      }
    } finally {
      this.updateButtons();
    }
  }

  watch(run) {
    this.activeRun = run;
    this.waits = new Map();
    this.baseline = nextBaseline(null, run, Date.now());
    this.lastMilestone = -1;
    this.renderProgress(run);
    this.updateButtons();
    this.poller.start();
    this.hooks.onWatching(true);
  }

  /** Stop watching without a word (signed out, session ended). */
  stop() {
    this.poller.stop();
    this.stopWaitTicker();
    this.activeRun = null;
    this.baseline = null;
    if (this.el.dialog.open) this.el.dialog.close();
  }

  /**
   * Look for a run started elsewhere (another admin, the schedule) and watch it: true when a run is watched,
   * false when none is active, null when that could not be told (the page error says why).
   */
  async checkForActiveRun() {
    if (this.watching) return true;
    if (this.checking) return null;
    this.checking = true;
    try {
      const current = await this.api.currentRun();
      this.clearPageError(CURRENT_RUN);
      if (current && current.status === "RUNNING" && !this.watching) this.watch(current);
      return this.watching;
    } catch (err) {
      if (!this.handleAuthError(err)) {
        this.showPageError(explainCaught(err), "Could not check for a running sync", CURRENT_RUN);
      }
      return null;
    } finally {
      this.checking = false;
    }
  }

  /** The idle refresh: pick up a run started elsewhere; with none active, drop a stale conflict error. */
  async refreshIdle() {
    if ((await this.checkForActiveRun()) === false) this.clearConflict();
  }

  renderCounters(run) {
    for (const [name, el] of Object.entries(this.el.counts)) el.textContent = formatCount(run[name]);
    this.el.counts.failed.closest(".counter").classList.toggle("counter--alert", Number(run.failed) > 0);
    this.el.counts.conflicts.closest(".counter").classList.toggle("counter--alert", Number(run.conflicts) > 0);
    this.el.split.textContent = countsSplitText(run.counts_by_domain);
    this.el.split.hidden = !this.el.split.textContent;
  }

  setBar(pct) {
    const { bar, fill, percent } = this.el;
    if (pct === null) {
      bar.classList.add("progress__track--indeterminate");
      bar.removeAttribute("aria-valuenow");
      bar.setAttribute("aria-valuetext", "Counting records…");
      fill.style.width = "";
      percent.textContent = "";
    } else {
      bar.classList.remove("progress__track--indeterminate");
      bar.setAttribute("aria-valuenow", String(pct));
      bar.setAttribute("aria-valuetext", `${pct}%`);
      fill.style.width = `${pct}%`;
      percent.textContent = `${pct}%`;
    }
  }

  renderProgress(run) {
    const { card, cancel } = this.el;
    const running = run.status === "RUNNING";
    card.hidden = false;
    card.classList.toggle("card--progress-done", !running);
    const outcome = runOutcome(run);
    this.shownRun = run;
    card.classList.toggle("card--progress-completed", outcome === "COMPLETED");
    card.classList.toggle("card--progress-warning", outcome === "COMPLETED_WITH_FAILURES");
    card.classList.toggle("card--progress-failed", run.status === "FAILED");
    card.setAttribute("aria-busy", running ? "true" : "false");
    this.el.spinner.hidden = !running;
    cancel.hidden = !running;
    cancel.disabled = false;
    cancel.textContent = "Cancel run";
    this.el.label.textContent = run.label || run.type;
    renderStatusBadge(this.el.status, outcome);
    const by = run.started_by ? ` by ${startedByText(run.started_by)}` : "";
    this.el.started.textContent = `Started ${formatLocalTime(run.started_at)}${by}`;
    this.renderCounters(run);

    const progress = run.progress || {};
    if (running) {
      const pct = overallPercent(progress);
      this.el.domain.textContent = progressText(progress) || "Starting…";
      this.setBar(progress.domain ? pct : null);
      const now = Date.now();
      if (!this.renderWait(run, now)) {
        // Time spent waiting for PCO is not time the run was slow: the rate leaves it out.
        const left = runSecondsLeft(run, this.baseline, now - this.waitedMs(now));
        const elapsed = formatDuration(elapsedSeconds(run.started_at, now));
        this.el.eta.textContent = `${formatTimeLeft(left)} · running for ${elapsed}`;
      }
      this.announceMilestone(run, pct);
    } else {
      this.stopWaitTicker();
      const pct = run.status === "COMPLETED" ? 100 : overallPercent(progress);
      this.el.domain.textContent =
        run.status === "COMPLETED" ? "All done" : progressText(progress) || domainLabel(progress.domain);
      this.setBar(pct ?? 0);
      this.el.eta.textContent = `Finished after ${formatDuration(run.duration_seconds)}`;
    }
    // PCO's totals beside the local linked counts, as far as the run has counted them (the drift check).
    const totals = totalsText(run);
    this.el.totals.textContent = totals;
    this.el.totals.hidden = !totals;
    showMessage(this.el.drift, driftWarning(run) || null);
    const failed = run.status === "FAILED" && run.error;
    showMessage(this.el.progressError, failed ? explainError(run.error) : null, "Error");
    this.el.failuresNote.hidden = running || !(Number(run.failed) > 0);
  }

  announceMilestone(run, pct) {
    if (pct === null) return;
    const milestone = Math.floor(pct / 25) * 25;
    if (milestone > this.lastMilestone && milestone > 0) {
      this.announce(`${run.label || run.type}: ${progressText(run.progress)}, ${pct}% done.`);
    }
    this.lastMilestone = Math.max(this.lastMilestone, milestone);
  }

  /** One poll of the active run; resolves false when polling should stop. */
  async pollTick() {
    const watched = this.activeRun;
    if (!watched) return false;
    let current;
    try {
      current = await this.api.currentRun();
    } catch (err) {
      if (this.handleAuthError(err)) return false;
      if (this.activeRun?.id !== watched.id) return false;
      showMessage(this.el.progressError, explainCaught(err), "Lost contact with the API (retrying)");
      return true;
    }
    if (this.activeRun?.id !== watched.id) return false; // cancelled or replaced meanwhile
    showMessage(this.el.progressError, null);
    if (current && current.status === "RUNNING") {
      if (current.id !== watched.id) this.baseline = null;
      this.activeRun = current;
      this.baseline = nextBaseline(this.baseline, current, Date.now());
      this.renderProgress(current);
      return true;
    }
    await this.finish(watched, current && current.id === watched.id ? current : null);
    return false;
  }

  /** The watched run is no longer active: show how it ended, refresh the lists, free the buttons. */
  async finish(watched, endedRun) {
    this.activeRun = null;
    this.baseline = null;
    if (this.el.dialog.open) this.el.dialog.close();
    this.clearConflict();
    this.updateButtons();
    await this.hooks.refreshAfterRun();
    const final = endedRun || this.hooks.findRun(watched.id);
    if (final && final.status !== "RUNNING") {
      this.renderProgress(final);
      this.announce(runSummary(final));
    } else {
      this.el.card.hidden = true;
      this.announce(`${watched.label || watched.type} has ended.`);
    }
    this.hooks.onWatching(false);
  }

  /** Cancel asks first: the dialog's safe choice (keep running) has the focus, Escape keeps it too. */
  askToCancel() {
    if (!this.activeRun || this.el.dialog.open) return;
    this.el.dialogRun.textContent = this.activeRun.label || this.activeRun.type;
    this.el.dialog.returnValue = "";
    this.el.dialog.showModal();
  }

  onDialogClosed() {
    if (this.el.dialog.returnValue === "cancel") {
      this.cancel();
    } else if (this.watching) {
      this.el.cancel.focus();
    } else {
      this.el.title.focus({ preventScroll: true }); // the run ended while the dialog was open
    }
  }

  async cancel() {
    const run = this.activeRun;
    if (!run) return;
    const button = this.el.cancel;
    button.disabled = true;
    button.textContent = "Cancelling…";
    this.el.title.focus({ preventScroll: true }); // the button goes once the run has ended
    try {
      const answer = await this.api.cancelRun(run.id);
      if (answer && answer.status && answer.status !== "RUNNING") {
        this.poller.stop();
        await this.finish(run, answer);
      }
    } catch (err) {
      if (this.handleAuthError(err)) return;
      if (err instanceof ApiError && err.status === 409) {
        // The run ended on its own before the cancel arrived.
        this.poller.stop();
        await this.finish(run, null);
        this.showRunError(explainCaught(err), "Could not cancel");
      } else {
        button.disabled = false;
        button.textContent = "Cancel run";
        showMessage(this.el.progressError, explainCaught(err), "Could not cancel");
      }
    }
  }
}
