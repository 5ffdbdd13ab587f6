// Small DOM pieces the page sections share: alerts that may carry a "Details" disclosure, table cells,
// status badges.

import { statusClass, statusText } from "./format.js";

/**
 * Fill `el` with `message` ({sentence, details} from errors.js, or a plain string) and show it; hide it for
 * an empty one. `prefix` ("Could not start Full Sync") goes before the sentence.
 */
export function showMessage(el, message, prefix = "") {
  const { sentence, details } =
    typeof message === "string" ? { sentence: message, details: null } : message || {};
  el.replaceChildren();
  el.hidden = !sentence;
  if (!sentence) return;
  const text = document.createElement("span");
  text.className = "message__text";
  text.textContent = prefix ? `${prefix}: ${sentence}` : sentence;
  el.append(text);
  if (details) el.append(detailsDisclosure(details));
}

/** A closed "Details" disclosure holding the technical text (for support, not for reading). */
export function detailsDisclosure(technical) {
  const disclosure = document.createElement("details");
  disclosure.className = "message__details";
  const summary = document.createElement("summary");
  summary.textContent = "Details";
  const code = document.createElement("code");
  code.textContent = technical;
  disclosure.append(summary, code);
  return disclosure;
}

/** A table cell with its column name in `data-label` (the phone layout shows it before the value). */
export function cell(text, label, className) {
  const td = document.createElement("td");
  td.dataset.label = label;
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

export function renderStatusBadge(el, status) {
  el.className = `badge ${statusClass(status)}`;
  el.textContent = statusText(status);
}
