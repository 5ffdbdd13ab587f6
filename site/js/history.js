// The "Sync History" card: the last runs, most recent first; a failed (or skipped) run's row opens to say
// why; a warning above it when the latest completed Full Sync left PCO and the local records apart.

import { explainError } from "./errors.js";
import { driftWarning, formatCount, formatDuration, formatLocalTime, startedByText, totalsText } from "./format.js";
import { cell, detailsDisclosure, renderStatusBadge, showMessage } from "./ui.js";

const HISTORY_LIMIT = 20;
const COLUMNS = 9;

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

function reasonRow(run, detailId, what) {
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
  detail.appendChild(td);
  return detail;
}

export class HistoryCard {
  /**
   * @param {{api: import("./api.js").ApiClient}} deps
   * @param {() => void} onRefresh what the Refresh button does (the app refreshes every list together).
   */
  constructor({ api }, onRefresh, doc = document) {
    this.api = api;
    this.doc = doc;
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
    const type = cell(run.label || run.type, "Type", "history__type");
    // PCO's totals beside the local linked counts, where the run counted them.
    const totals = totalsText(run);
    if (totals) type.title = totals;
    tr.appendChild(type);

    const statusTd = cell("", "Status");
    const statusWrap = document.createElement("span");
    const badge = document.createElement("span");
    renderStatusBadge(badge, run.status);
    statusWrap.appendChild(badge);
    statusTd.appendChild(statusWrap);
    tr.appendChild(statusTd);

    const started = cell(formatLocalTime(run.started_at), "Started", "history__when");
    if (run.started_at) started.title = run.started_at;
    tr.appendChild(started);
    const duration = run.status === "RUNNING" ? "Running…" : formatDuration(run.duration_seconds);
    tr.appendChild(cell(duration, "Duration"));
    tr.appendChild(cell(formatCount(run.created), "Created", "num"));
    tr.appendChild(cell(formatCount(run.updated), "Updated", "num"));
    tr.appendChild(cell(formatCount(run.skipped), "Skipped", "num"));
    tr.appendChild(cell(formatCount(run.conflicts ?? 0), "Conflicts", "num"));
    tr.appendChild(byCell(startedByText(run.started_by)));

    // A failed run always has its error; a cancelled one may carry why (e.g. a scheduled run skipped).
    if (!run.error || (run.status !== "FAILED" && run.status !== "CANCELLED")) return [tr];
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

    const detail = reasonRow(run, detailId, what);
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
