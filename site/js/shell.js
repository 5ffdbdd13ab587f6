// The page around the sections: which view shows, the screen-reader announcer, the page-level error banner.

import { showMessage } from "./ui.js";

const VIEWS = ["loading-view", "fatal-view", "signin-view", "forbidden-view", "dashboard-view"];
const ANNOUNCE_DELAY_MS = 50;

export class Shell {
  constructor(doc = document) {
    this.doc = doc;
    this.announcer = doc.getElementById("announcer");
    this.account = doc.getElementById("account");
    this.pageError = doc.getElementById("page-error");
    this.pageErrorText = doc.getElementById("page-error-text");
    this.main = doc.getElementById("main");
    this.pageErrorSource = null;
    doc.getElementById("page-error-dismiss").addEventListener("click", () => this.showPageError(null));
    doc.getElementById("fatal-retry").addEventListener("click", () => window.location.reload());
  }

  showView(id) {
    for (const view of VIEWS) this.doc.getElementById(view).hidden = view !== id;
    this.account.hidden = !(id === "dashboard-view" || id === "forbidden-view");
  }

  isShowing(id) {
    return !this.doc.getElementById(id).hidden;
  }

  /** A view that says the page cannot start at all (config.json missing or wrong). */
  showFatal(text) {
    this.showView("fatal-view");
    this.doc.getElementById("fatal-message").textContent = text;
  }

  announce(text) {
    this.announcer.textContent = "";
    // A fresh text node after a tick makes screen readers announce a repeated message too.
    window.setTimeout(() => {
      this.announcer.textContent = text;
    }, ANNOUNCE_DELAY_MS);
  }

  /**
   * `message` as showMessage takes it, with `prefix` in front; null hides the banner. `source` names what
   * failed, so that its next success can take the banner away again (clearPageError).
   */
  showPageError(message, prefix = "", source = null) {
    showMessage(this.pageErrorText, message, prefix);
    this.pageError.hidden = this.pageErrorText.hidden;
    this.pageErrorSource = message ? source : null;
  }

  /** `source` works again: drop the banner if it is that source's error (a refresh must not keep it). */
  clearPageError(source) {
    if (source !== null && this.pageErrorSource === source) this.showPageError(null);
  }

  focusMain() {
    this.main.focus({ preventScroll: true });
  }
}
