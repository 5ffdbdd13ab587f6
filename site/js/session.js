// Who is signed in: the sign-in view (local role picker or Cognito), the account bar, sign-out, the
// "no access" view, and what a 401 or 403 from any API call means for the page.

import { ApiError } from "./api.js";
import { SignInError, displayName } from "./auth.js";
import { explainCaught } from "./errors.js";
import { showMessage } from "./ui.js";

const FORBIDDEN_MESSAGE = "Your account does not have the pco.manage permission";
const SESSION_ENDED = "Your session has ended. Please sign in again.";

export class Session {
  /**
   * @param {{auth: import("./auth.js").Auth, shell: import("./shell.js").Shell,
   *          onSignedIn: () => Promise<void>, onEnded: () => void}} deps
   *   onSignedIn opens the dashboard; onEnded stops everything that polls.
   */
  constructor({ auth, shell, onSignedIn, onEnded }, doc = document) {
    this.auth = auth;
    this.shell = shell;
    this.onSignedIn = onSignedIn;
    this.onEnded = onEnded;
    this.el = {
      error: doc.getElementById("signin-error"),
      localForm: doc.getElementById("local-signin"),
      role: doc.getElementById("role-select"),
      submit: doc.getElementById("local-signin-submit"),
      cognito: doc.getElementById("cognito-signin"),
      cognitoButton: doc.getElementById("cognito-signin-button"),
      accountName: doc.getElementById("account-name"),
      forbiddenMessage: doc.getElementById("forbidden-message"),
    };
    this.el.localForm.addEventListener("submit", (event) => this.signInLocal(event));
    this.el.cognitoButton.addEventListener("click", () => this.signInCognito());
    doc.getElementById("sign-out").addEventListener("click", () => this.signOut());
  }

  /** After a Cognito redirect: finish the sign-in; false when it failed (the sign-in view says why). */
  async completeRedirect() {
    if (this.auth.mode !== "cognito") return true;
    try {
      await this.auth.completeCognitoSignIn();
      return true;
    } catch (err) {
      this.showSignIn(err instanceof SignInError ? err.message : explainCaught(err));
      return false;
    }
  }

  isSignedIn() {
    return Boolean(this.auth.token());
  }

  showSignIn(message) {
    this.shell.showView("signin-view");
    showMessage(this.el.error, message);
    const local = this.auth.mode !== "cognito";
    this.el.localForm.hidden = !local;
    this.el.cognito.hidden = local;
    (local ? this.el.role : this.el.cognitoButton).focus();
  }

  renderAccount() {
    const name = displayName(this.auth.claims());
    this.el.accountName.textContent = name ? `Signed in as ${name}` : "Signed in";
  }

  showForbidden() {
    this.renderAccount();
    this.shell.showView("forbidden-view");
    this.el.forbiddenMessage.textContent = FORBIDDEN_MESSAGE;
  }

  /** 401 and 403 mean the same wherever they happen; true when `err` was one of them (and was handled). */
  handleAuthError(err) {
    if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 403)) return false;
    this.onEnded();
    if (err.status === 401) {
      this.auth.signOut();
      this.showSignIn(SESSION_ENDED);
    } else {
      this.showForbidden();
    }
    return true;
  }

  async signInLocal(event) {
    event.preventDefault();
    const { submit } = this.el;
    submit.disabled = true;
    submit.textContent = "Signing in…";
    showMessage(this.el.error, null);
    try {
      await this.auth.signInLocal(this.el.role.value);
      await this.onSignedIn();
    } catch (err) {
      showMessage(this.el.error, explainCaught(err));
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  }

  async signInCognito() {
    this.el.cognitoButton.disabled = true;
    try {
      await this.auth.beginCognitoSignIn();
    } catch (err) {
      this.el.cognitoButton.disabled = false;
      showMessage(this.el.error, explainCaught(err));
    }
  }

  signOut() {
    this.onEnded();
    this.auth.signOut();
    this.showSignIn("You have signed out.");
  }
}
