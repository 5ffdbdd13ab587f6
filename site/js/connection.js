// The "Connection to Planning Center" card: which credentials are configured (never their values), the
// webhook URL to copy, and Test Connection.

import { explainCaught, explainConnectionTest } from "./errors.js";
import { showMessage } from "./ui.js";

export class ConnectionCard {
  /**
   * @param {{api: import("./api.js").ApiClient, handleAuthError: (err: unknown) => boolean}} deps
   */
  constructor({ api, handleAuthError }, doc = document) {
    this.api = api;
    this.handleAuthError = handleAuthError;
    this.el = {
      checks: doc.getElementById("connection-checks"),
      url: doc.getElementById("webhook-url"),
      copy: doc.getElementById("copy-webhook"),
      copyStatus: doc.getElementById("copy-status"),
      test: doc.getElementById("test-connection"),
      result: doc.getElementById("test-result"),
      refused: doc.getElementById("credentials-refused"),
    };
    this.el.copy.addEventListener("click", () => this.copyWebhookUrl());
    this.el.test.addEventListener("click", () => this.test());
  }

  /** GET /api/connection; throws what the API client threw (the caller decides how loading fails). */
  async load() {
    this.render(await this.api.getConnection());
  }

  render(conn) {
    this.el.checks.removeAttribute("aria-busy");
    // Set is not the same as working: after PCO refused them (a test, or a run), the App ID and Secret say
    // so until a test succeeds.
    const refused = conn?.credentials === "refused";
    for (const item of this.el.checks.querySelectorAll(".check")) {
      const key = item.dataset.key;
      const isSet = Boolean(conn?.[key]);
      const optional = key === "webhook_secret_set";
      const isRefused = refused && isSet && !optional;
      item.classList.toggle("check--ok", isSet && !isRefused);
      item.classList.toggle("check--missing", (!isSet && !optional) || isRefused);
      item.classList.toggle("check--optional", !isSet && optional);
      item.querySelector(".check__state").textContent = isRefused
        ? "Refused by Planning Center"
        : isSet
          ? conn?.credentials === "working" && !optional
            ? "Configured and working"
            : "Configured"
          : optional
            ? "Not configured (webhooks are not verified)"
            : "Not configured";
    }
    this.el.refused.hidden = !refused;
    this.el.refused.textContent = refused ? conn?.refused_reason || "Planning Center refused the App ID and Secret." : "";
    const url = conn?.webhook_url || "";
    this.el.url.value = url;
    this.el.url.placeholder = url ? "" : "Not available";
    this.el.copy.disabled = !url;
  }

  async copyWebhookUrl() {
    const { url, copyStatus } = this.el;
    try {
      await navigator.clipboard.writeText(url.value);
      copyStatus.textContent = "Webhook URL copied.";
    } catch {
      url.focus();
      url.select();
      const copied = document.execCommand && document.execCommand("copy");
      copyStatus.textContent = copied
        ? "Webhook URL copied."
        : "Press Ctrl+C (or ⌘C) to copy the selected URL.";
    }
  }

  async test() {
    const { test: button, result } = this.el;
    button.disabled = true;
    button.textContent = "Testing…";
    result.className = "test-result";
    showMessage(result, "Contacting Planning Center…");
    try {
      const answer = await this.api.testConnection();
      // The verdict on the credentials changed what the card says: read it again.
      await this.load().catch(() => {});
      if (answer?.ok) {
        result.classList.add("test-result--ok");
        showMessage(result, `Connected to ${answer.organization || "Planning Center"}`);
      } else {
        result.classList.add("test-result--fail");
        showMessage(result, explainConnectionTest(answer), "Connection failed");
      }
    } catch (err) {
      if (this.handleAuthError(err)) return;
      result.classList.add("test-result--fail");
      showMessage(result, explainCaught(err), "Connection test failed");
    } finally {
      button.disabled = false;
      button.textContent = "Test Connection";
    }
  }
}
