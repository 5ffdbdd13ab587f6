// The "Sync History" card: the last runs, most recent first; a failed (or cancelled) run's row opens to say
// why, and a failed run's offers Resume (a new run that goes on from where the failed one stopped); a
// skipped one says so in grey; a run's failed records open in the failures dialog; a warning above it when
// the latest completed Full Sync left PCO and the local records apart.

import { explainError } from "./errors.js";
import {
  countsSplitText,
  driftWarning,
  formatCount,
  formatDuration,
  formatLocalTime,
  runOutcome,
  startedByText,
  totalsText,
} from "./format.js";
import { cell, detailsDisclosure, renderStatusBadge, showMessage } from "./ui.js";

const HISTORY_LIMIT = 20;
const COLUMNS = 10;
const SKIPPED_TEXT = "another run was active";

/** The "By" cell: an address stays on one line (cut with an ellipsis when too long, whole in the title). */
function byCell(text) {
  const td = cell("", "By", "history__by");
  const span = document.createElement("span");
  span.className = "history__by-text";
  span.textContent = text;
  span.title = text;
  td.append(span);
  return td;
}

/** The failed records of `run` open in the failures dialog from this button. */
function failuresButton(run, openFailures, text) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link-button";
  button.textContent = text;
  const when = formatLocalTime(run.started_at);
  button.setAttribute("aria-label", `View the ${formatCount(run.failed)} failed records of ${run.label || run.type}, ${when}`);
  button.addEventListener("click", (event) => {
    event.stopPropagation(); // inside an expandable row: open the dialog, leave the row as it is
    openFailures(run, button);
  });
  return button;
}

/** Resume for a failed run not resumed yet; once resumed, a note saying so. */
function resumeControl(run, onResume) {
  if (run.resumed_by) {
    const note = document.createElement("span");
    note.className = "history__resumed";
    note.textContent = "Resumed by a later run.";
    return note;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn--ghost btn--small history__resume";
  button.textContent = "Resume";
  button.setAttribute("aria-label", `Resume ${run.label || run.type} from where it stopped`);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await onResume(run);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function reasonRow(run, detailId, what, { openFailures, onResume }) {
  const detail = document.createElement("tr");
  detail.id = detailId;
  detail.className = "history__detail";
  const td = document.createElement("td");
  td.colSpan = COLUMNS;
  const heading = document.createElement("strong");
  heading.textContent = what === "error" ? "Error: " : "Reason: ";
  const { sentence, details } = explainError(run.error);
  const text = document.createElement("span");
  text.className = "history__reason";
  text.textContent = sentence;
  td.append(heading, text);
  if (details) td.append(detailsDisclosure(details));
  if (Number(run.failed) > 0) {
    const more = document.createElement("p");
    more.append(failuresButton(run, openFailures, "View failed records"));
    td.append(more);
  }
  if (run.status === "FAILED" && onResume) td.append(resumeControl(run, onResume));
  detail.appendChild(td);
  return detail;
}

export class HistoryCard {
  /**
   * @param {{api: import("./api.js").ApiClient}} deps
   * @param {{onRefresh: () => void, onResume: (run: object) => Promise<void>,
   *          openFailures: (run: object, opener: HTMLElement) => void}} hooks onRefresh is what the Refresh
   *   button does (the app refreshes every list together); onResume resumes a failed run; openFailures
   *   shows a run's failed records.
   */
  constructor({ api }, { onRefresh, onResume, openFailures }, doc = document) {
    this.api = api;
    this.openFailures = openFailures;
    this.doc = doc;
    this.onResume = onResume;
    this.expanded = new Set(); // ids of the runs whose reason row is open, kept across refreshes
    this.runsById = new Map();
    this.el = {
      body: doc.getElementById("history-body"),
      table: doc.getElementById("history-table"),
      empty: doc.getElementById("history-empty"),
      refresh: doc.getElementById("refresh-history"),
      drift: doc.getElementById("drift-warning"),
    };
    this.el.refresh.addEventListener("click", onRefresh);
  }

  /** The run as the last loaded history has it, or undefined. */
  run(id) {
    return this.runsById.get(id);
  }

  /** GET /api/runs and render; throws what the API client threw. */
  async load() {
    this.el.refresh.disabled = true;
    try {
      this.render(await this.api.listRuns(HISTORY_LIMIT));
    } finally {
      this.el.refresh.disabled = false;
    }
  }

  render(runs) {
    this.runsById = new Map(runs.map((run) => [run.id, run]));
    const { body } = this.el;
    const focusedId = this.doc.activeElement?.closest?.("tr")?.dataset?.runId;
    body.replaceChildren(...runs.flatMap((run, i) => this.rows(run, i)));
    this.el.empty.hidden = runs.length > 0;
    this.el.table.hidden = runs.length === 0;
    const lastFull = runs.find((run) => run.type === "full_sync" && run.status === "COMPLETED");
    showMessage(this.el.drift, driftWarning(lastFull) || null);
    if (focusedId) body.querySelector(`tr[data-run-id="${CSS.escape(focusedId)}"]`)?.focus();
  }

  rows(run, index) {
    const tr = document.createElement("tr");
    tr.dataset.runId = run.id;
    const label = run.label || run.type;
    const type = cell(run.resumed_from ? `${label} (resumed)` : label, "Type", "history__type");
    // PCO's totals beside the local linked counts, where the run counted them.
    const totals = totalsText(run);
    if (totals) type.title = totals;
    tr.appendChild(type);

    const statusTd = cell("", "Status");
    const statusWrap = document.createElement("span");
    const badge = document.createElement("span");
    const outcome = runOutcome(run);
    renderStatusBadge(badge, outcome);
    statusWrap.appendChild(badge);
    if (outcome === "SKIPPED") {
      const why = document.createElement("span");
      why.className = "history__note";
      why.textContent = run.skip_reason || SKIPPED_TEXT;
      statusWrap.appendChild(why);
    }
    statusTd.appendChild(statusWrap);
    tr.appendChild(statusTd);

    const started = cell(formatLocalTime(run.started_at), "Started", "history__when");
    if (run.started_at) started.title = run.started_at;
    tr.appendChild(started);
    const duration = run.status === "RUNNING" ? "Running…" : formatDuration(run.duration_seconds);
    tr.appendChild(cell(duration, "Duration"));
    const created = cell(formatCount(run.created), "Created", "num");
    const split = countsSplitText(run.counts_by_domain);
    if (split) created.title = split; // e.g. groups and their memberships apart
    tr.appendChild(created);
    tr.appendChild(cell(formatCount(run.updated), "Updated", "num"));
    tr.appendChild(cell(formatCount(run.skipped), "Skipped", "num"));
    const failedTd = cell(formatCount(run.failed), "Failed", "num");
    tr.appendChild(failedTd);
    tr.appendChild(cell(formatCount(run.conflicts ?? 0), "Conflicts", "num"));
    tr.appendChild(byCell(startedByText(run.started_by)));

    // A failed run always has its error; a cancelled one may carry why. A skipped one said why above.
    const expandable = run.error && outcome !== "SKIPPED" && (run.status === "FAILED" || run.status === "CANCELLED");
    if (!expandable) {
      if (Number(run.failed) > 0) {
        failedTd.replaceChildren(failuresButton(run, this.openFailures, formatCount(run.failed)));
      }
      return [tr];
    }
    const detailId = `run-error-${index}`;
    const what = run.status === "FAILED" ? "error" : "reason";
    tr.classList.add("history__row--expandable");
    tr.tabIndex = 0;
    tr.setAttribute("role", "button");
    tr.setAttribute("aria-controls", detailId);
    const when = `${run.status.toLowerCase()} ${formatLocalTime(run.started_at)}`;
    tr.setAttribute("aria-label", `${run.label || run.type}, ${when}: show ${what}`);
    const hint = document.createElement("span");
    hint.className = "history__hint";
    hint.textContent = `View ${what}`;
    statusWrap.appendChild(hint);

    const detail = reasonRow(run, detailId, what, { openFailures: this.openFailures, onResume: this.onResume });
    const open = this.expanded.has(run.id);
    tr.setAttribute("aria-expanded", String(open));
    detail.hidden = !open;
    tr.addEventListener("click", () => this.toggle(tr, detail));
    tr.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        this.toggle(tr, detail);
      }
    });
    return [tr, detail];
  }

  toggle(row, detail) {
    const open = row.getAttribute("aria-expanded") !== "true";
    row.setAttribute("aria-expanded", String(open));
    detail.hidden = !open;
    if (open) this.expanded.add(row.dataset.runId);
    else this.expanded.delete(row.dataset.runId);
  }
}
