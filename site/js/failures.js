// The "Failed records" dialog: which records a run could not sync and why, read from
// GET /api/runs/{id}/failures when an admin opens it (from Sync History or the progress card).

import { explainCaught } from "./errors.js";
import { failureTitle, failuresSummary, formatLocalTime } from "./format.js";
import { showMessage } from "./ui.js";

function failureItem(failure) {
  const li = document.createElement("li");
  li.className = "failure";
  const title = document.createElement("strong");
  title.className = "failure__title";
  title.textContent = failureTitle(failure);
  const what = document.createElement("span");
  what.className = "failure__what";
  const ids = [failure.record_id && `id ${failure.record_id}`, failure.pco_id && `PCO id ${failure.pco_id}`];
  const known = ids.filter(Boolean).join(", ");
  what.textContent = ` · ${failure.operation} · ${formatLocalTime(failure.at)}${known ? ` · ${known}` : ""}`;
  const why = document.createElement("p");
  why.className = "failure__why";
  why.textContent = failure.message;
  li.append(title, what, why);
  return li;
}

export class FailuresDialog {
  /** @param {{api: import("./api.js").ApiClient, handleAuthError: (err: unknown) => boolean}} deps */
  constructor({ api, handleAuthError }, doc = document) {
    this.api = api;
    this.handleAuthError = handleAuthError;
    this.opener = null;
    this.el = {
      dialog: doc.getElementById("failures-dialog"),
      title: doc.getElementById("failures-dialog-title"),
      summary: doc.getElementById("failures-dialog-summary"),
      error: doc.getElementById("failures-dialog-error"),
      list: doc.getElementById("failures-dialog-list"),
    };
    this.el.dialog.addEventListener("close", () => {
      this.opener?.focus?.();
      this.opener = null;
    });
  }

  /** Show `run`'s failed records; `opener` gets the focus back when the dialog closes. */
  async open(run, opener) {
    const { dialog, title, summary, error, list } = this.el;
    this.opener = opener ?? null;
    title.textContent = `Failed records of ${run.label || run.type}, ${formatLocalTime(run.started_at)}`;
    summary.textContent = "Loading…";
    showMessage(error, null);
    list.replaceChildren();
    if (!dialog.open) dialog.showModal();
    try {
      const answer = await this.api.runFailures(run.id);
      summary.textContent = failuresSummary(answer?.total, answer?.kept);
      list.replaceChildren(...(answer?.failures ?? []).map(failureItem));
    } catch (err) {
      if (this.handleAuthError(err)) {
        dialog.close();
        return;
      }
      summary.textContent = "";
      showMessage(error, explainCaught(err), "Could not load the failed records");
    }
  }

  close() {
    if (this.el.dialog.open) this.el.dialog.close();
  }
}
