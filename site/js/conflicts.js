// The "Conflicts" card: fields both sides changed differently since the last sync, side by side (what it
// was, our value, PCO's value), each with "Keep ours" / "Keep PCO's". The header badge counts them.

import { explainCaught } from "./errors.js";
import { formatCount, formatLocalTime } from "./format.js";
import { showMessage } from "./ui.js";

const FIELD_LABELS = Object.freeze({
  first_name: "First name",
  last_name: "Last name",
  gender: "Gender",
  birthdate: "Birthdate",
  status: "Status",
  name: "Name",
  primary_member_id: "Primary contact",
  address: "Address",
  emails: "Email",
  phones: "Phone",
  addresses: "Address",
  member: "Membership",
  role: "Role",
});

/** "emails:20000006" -> "Email", "last_name" -> "Last name". */
export function fieldLabel(field) {
  const kind = String(field ?? "").split(":")[0];
  return FIELD_LABELS[kind] ?? kind.replaceAll("_", " ");
}

/** A conflict's value as words: an email/phone/address item, a membership role, or plain text. */
export function valueText(value) {
  if (value === null || value === undefined || value === "") return "(none)";
  if (value === true) return "In the group";
  if (value === false) return "Not in the group";
  if (typeof value === "object") {
    const main = value.address ?? value.number ?? [value.street, value.city, value.state, value.zip]
      .filter(Boolean)
      .join(", ");
    const extra = [value.location, value.primary ? "primary" : null].filter(Boolean).join(", ");
    return extra ? `${main} (${extra})` : main || "(none)";
  }
  return String(value);
}

function side(label, value, className) {
  const div = document.createElement("div");
  div.className = `conflict__side ${className}`;
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = valueText(value);
  div.append(dt, dd);
  return div;
}

export class ConflictsCard {
  /**
   * @param {{api: import("./api.js").ApiClient, handleAuthError: (err: unknown) => boolean,
   *          announce: (text: string) => void}} deps
   */
  constructor({ api, handleAuthError, announce }, doc = document) {
    this.api = api;
    this.handleAuthError = handleAuthError;
    this.announce = announce;
    this.doc = doc;
    this.resolving = new Set();
    this.el = {
      card: doc.getElementById("conflicts-card"),
      list: doc.getElementById("conflicts-list"),
      empty: doc.getElementById("conflicts-empty"),
      result: doc.getElementById("conflicts-result"),
      badge: doc.getElementById("conflict-badge"),
    };
  }

  /** GET /api/conflicts?status=open and render; throws what the API client threw. */
  async load() {
    this.render(await this.api.listConflicts());
  }

  render(answer) {
    const items = Array.isArray(answer?.items) ? answer.items : [];
    this.el.list.replaceChildren(...items.map((conflict) => this.item(conflict)));
    this.el.empty.hidden = items.length > 0;
    const more = answer?.next_cursor ? "+" : "";
    this.el.badge.hidden = items.length === 0;
    this.el.badge.textContent =
      items.length === 1 ? "1 conflict" : `${formatCount(items.length)}${more} conflicts`;
  }

  item(conflict) {
    const li = this.doc.createElement("li");
    li.className = "conflict";
    li.dataset.conflictId = conflict.id;
    const head = this.doc.createElement("p");
    head.className = "conflict__head";
    const who = this.doc.createElement("strong");
    who.textContent = conflict.label || conflict.record_id;
    const what = this.doc.createElement("span");
    what.textContent = ` · ${fieldLabel(conflict.field)}`;
    const when = this.doc.createElement("span");
    when.className = "muted conflict__when";
    when.textContent = ` · found ${formatLocalTime(conflict.detected_at)}`;
    head.append(who, what, when);
    const values = this.doc.createElement("dl");
    values.className = "conflict__values";
    values.append(
      side("Was", conflict.base, "conflict__side--base"),
      side("Here", conflict.local, "conflict__side--local"),
      side("In PCO", conflict.pco, "conflict__side--pco"),
    );
    const actions = this.doc.createElement("div");
    actions.className = "conflict__actions";
    const name = `${fieldLabel(conflict.field)} of ${conflict.label || "this record"}`;
    for (const [keep, text] of [
      ["local", "Keep ours"],
      ["pco", "Keep PCO's"],
    ]) {
      const button = this.doc.createElement("button");
      button.type = "button";
      button.className = keep === "local" ? "btn btn--primary btn--small" : "btn btn--secondary btn--small";
      button.textContent = text;
      button.setAttribute("aria-label", `${text}: ${name}`);
      button.addEventListener("click", () => this.resolve(conflict, keep));
      actions.append(button);
    }
    li.append(head, values, actions);
    return li;
  }

  async resolve(conflict, keep) {
    if (this.resolving.has(conflict.id)) return;
    this.resolving.add(conflict.id);
    showMessage(this.el.result, null);
    try {
      await this.api.resolveConflict(conflict.id, { keep });
      const kept = keep === "local" ? "ours (the next push sends it to PCO)" : "PCO's";
      this.announce(`${fieldLabel(conflict.field)} of ${conflict.label}: kept ${kept}.`);
      await this.load();
    } catch (err) {
      if (this.handleAuthError(err)) return;
      showMessage(this.el.result, explainCaught(err), "Could not resolve the conflict");
      await this.load().catch(() => {});
    } finally {
      this.resolving.delete(conflict.id);
    }
  }
}
