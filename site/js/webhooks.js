// The "Webhook deliveries" card: PCO's last deliveries with their outcome, the dead letters waiting, and
// their replay.

import { ApiError } from "./api.js";
import { explainCaught } from "./errors.js";
import { eventLabel, formatCount, formatLocalTime, outcomeClass, resourceLabel } from "./format.js";
import { cell, showMessage } from "./ui.js";

const DELIVERY_OUTCOMES = Object.freeze({
  applied: "Applied",
  skipped: "Skipped",
  stale: "Stale",
  unknown: "Unknown event",
  failed: "Failed",
});

function deliveryRow(delivery) {
  const tr = document.createElement("tr");
  tr.dataset.deliveryId = delivery.id ?? "";
  const event = cell(eventLabel(delivery.event), "Event", "history__type");
  if (delivery.event) event.title = delivery.event;
  tr.appendChild(event);
  // The record's name when it is linked here ("Ada Lovelace"), else PCO's type and id in words.
  const resource = cell(delivery.name || resourceLabel(delivery.resource), "Resource");
  if (delivery.resource) resource.title = delivery.resource;
  tr.appendChild(resource);
  const received = cell(formatLocalTime(delivery.received_at), "Received", "history__when");
  if (delivery.received_at) received.title = delivery.received_at;
  tr.appendChild(received);
  const outcomeTd = cell("", "Outcome");
  const badge = document.createElement("span");
  badge.className = `badge ${outcomeClass(delivery.outcome)}`;
  badge.textContent = DELIVERY_OUTCOMES[delivery.outcome] ?? String(delivery.outcome ?? "—");
  outcomeTd.appendChild(badge);
  tr.appendChild(outcomeTd);
  return tr;
}

export class WebhooksCard {
  /**
   * @param {{api: import("./api.js").ApiClient, handleAuthError: (err: unknown) => boolean}} deps
   */
  constructor({ api, handleAuthError }, doc = document) {
    this.api = api;
    this.handleAuthError = handleAuthError;
    this.deadLetters = 0;
    this.replaying = false;
    this.el = {
      body: doc.getElementById("deliveries-body"),
      scroll: doc.getElementById("deliveries-scroll"),
      empty: doc.getElementById("deliveries-empty"),
      count: doc.getElementById("dead-letter-count"),
      replay: doc.getElementById("replay-dead-letters"),
      result: doc.getElementById("replay-result"),
    };
    this.el.replay.addEventListener("click", () => this.replay());
  }

  /** GET /api/webhooks/deliveries and render; throws what the API client threw. */
  async load() {
    this.render(await this.api.webhookDeliveries());
  }

  render(answer) {
    const deliveries = Array.isArray(answer?.deliveries) ? answer.deliveries : [];
    this.el.body.replaceChildren(...deliveries.map(deliveryRow));
    this.el.empty.hidden = deliveries.length > 0;
    // The scroll region goes too: an empty one would still take a place in the tab order.
    this.el.scroll.hidden = deliveries.length === 0;
    this.deadLetters = Number(answer?.dead_letter_count ?? 0);
    this.renderDeadLetters();
  }

  renderDeadLetters() {
    const count = this.deadLetters;
    this.el.count.textContent =
      count === 1
        ? "1 delivery waits in the dead-letter queue"
        : `${formatCount(count)} deliveries wait in the dead-letter queue`;
    this.el.count.classList.toggle("dead-letters__count--alert", count > 0);
    this.el.replay.disabled = count === 0 || this.replaying;
  }

  async replay() {
    const { replay: button, result } = this.el;
    this.replaying = true;
    this.renderDeadLetters();
    button.textContent = "Replaying…";
    showMessage(result, null);
    try {
      const answer = await this.api.replayDeadLetters();
      const moving = Number(answer?.moving ?? 0);
      showMessage(
        result,
        moving === 1
          ? "Replaying 1 dead letter: it goes back to the webhook queue."
          : `Replaying ${formatCount(moving)} dead letters: they go back to the webhook queue.`,
      );
    } catch (err) {
      if (this.handleAuthError(err)) return;
      if (err instanceof ApiError && err.status === 409) {
        showMessage(result, "A replay is already running; refresh in a moment to see it finish.");
      } else {
        showMessage(result, explainCaught(err), "Could not replay the dead letters");
      }
    } finally {
      this.replaying = false;
      button.textContent = "Replay dead letters";
      this.renderDeadLetters();
    }
  }
}
