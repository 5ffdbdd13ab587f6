// Sign-in: Cognito's hosted UI (authorization code + PKCE) when deployed, a dev token issuer locally.
// The ID token lives in sessionStorage only, so closing the tab signs out.

const TOKEN_KEY = "pcoSync.idToken";
const PKCE_KEY = "pcoSync.pkce";

export class SignInError extends Error {}

/** The page's config.json: {apiBaseUrl, auth: {mode: "local" | "cognito", ...}}. */
export async function loadConfig(url = "config.json") {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status}).`);
  const config = await response.json();
  const mode = config?.auth?.mode ?? "local";
  if (mode !== "local" && mode !== "cognito") throw new Error(`config.json: unknown auth mode "${mode}".`);
  if (mode === "cognito") {
    for (const key of ["domain", "clientId", "redirectUri"]) {
      if (!config.auth[key]) throw new Error(`config.json: auth.${key} is required for Cognito sign-in.`);
    }
  }
  return { apiBaseUrl: config.apiBaseUrl ?? "", auth: { ...config.auth, mode } };
}

function base64UrlEncode(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64UrlDecode(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The JWT's claims, without verifying it (the API does that); null when it is not a JWT. */
export function tokenClaims(token) {
  try {
    const part = token.split(".")[1];
    return part ? JSON.parse(base64UrlDecode(part)) : null;
  } catch {
    return null;
  }
}

/** A name to show for the signed-in user. */
export function displayName(claims) {
  if (!claims) return "";
  return claims.email || claims.name || claims["cognito:username"] || claims.username || claims.sub || "";
}

function randomString(byteCount) {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(byteCount)));
}

async function s256(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}

export class Auth {
  constructor(config, { storage = window.sessionStorage, location = window.location } = {}) {
    this.config = config;
    this.storage = storage;
    this.location = location;
  }

  get mode() {
    return this.config.auth.mode;
  }

  /** The stored token, or null (an expired one is dropped). */
  token() {
    const token = this.storage.getItem(TOKEN_KEY);
    if (!token) return null;
    const claims = tokenClaims(token);
    if (claims && typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
      this.storage.removeItem(TOKEN_KEY);
      return null;
    }
    return token;
  }

  claims() {
    const token = this.token();
    return token ? tokenClaims(token) : null;
  }

  signOut() {
    this.storage.removeItem(TOKEN_KEY);
    this.storage.removeItem(PKCE_KEY);
    const { domain, clientId, logoutUri } = this.config.auth;
    // Cognito's /logout only accepts a logout_uri registered on the app client, so it is opt-in.
    if (this.mode === "cognito" && logoutUri) {
      const params = new URLSearchParams({ client_id: clientId, logout_uri: logoutUri });
      this.location.assign(`${domain.replace(/\/+$/, "")}/logout?${params}`);
    }
  }

  /** Local mode: ask the local stack's dev issuer for a token holding `role`. */
  async signInLocal(role) {
    let response;
    try {
      response = await fetch(`${(this.config.apiBaseUrl || "").replace(/\/+$/, "")}/local/token`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ role }),
        cache: "no-store",
      });
    } catch {
      throw new SignInError("Could not reach the local sign-in service.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok || !data?.token) {
      throw new SignInError(data?.message || `Sign-in failed (HTTP ${response.status}).`);
    }
    this.storage.setItem(TOKEN_KEY, data.token);
    return data.token;
  }

  /** Cognito mode: go to the hosted UI with a fresh PKCE verifier and state. */
  async beginCognitoSignIn() {
    const { domain, clientId, redirectUri, scope } = this.config.auth;
    const verifier = randomString(48);
    const state = randomString(16);
    const challenge = await s256(verifier);
    this.storage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
    const params = new URLSearchParams({
      response_type: "code",
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: scope || "openid email",
      state,
      code_challenge_method: "S256",
      code_challenge: challenge,
    });
    this.location.assign(`${domain.replace(/\/+$/, "")}/oauth2/authorize?${params}`);
  }

  /**
   * Cognito mode: finish a sign-in when the hosted UI sent us back with ?code=&state= (or ?error=).
   * Returns true when a token was stored; false when the URL holds no answer. Cleans the URL either way.
   */
  async completeCognitoSignIn() {
    const url = new URL(this.location.href);
    const code = url.searchParams.get("code");
    const error = url.searchParams.get("error");
    const returnedState = url.searchParams.get("state");
    const errorDescription = url.searchParams.get("error_description");
    if (!code && !error) return false;
    const clean = () => {
      url.search = "";
      window.history.replaceState(null, "", url.toString());
    };
    const saved = JSON.parse(this.storage.getItem(PKCE_KEY) || "null");
    this.storage.removeItem(PKCE_KEY);
    clean();
    if (error) {
      throw new SignInError(errorDescription || `Sign-in failed: ${error}.`);
    }
    if (!saved || saved.state !== returnedState) {
      throw new SignInError("The sign-in answer did not match this browser tab. Please sign in again.");
    }
    const { domain, clientId, redirectUri } = this.config.auth;
    let response;
    try {
      response = await fetch(`${domain.replace(/\/+$/, "")}/oauth2/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          client_id: clientId,
          code,
          redirect_uri: redirectUri,
          code_verifier: saved.verifier,
        }),
      });
    } catch {
      throw new SignInError("Could not reach the sign-in service.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok || !data?.id_token) {
      const reason = data?.error_description || data?.error || `HTTP ${response.status}`;
      throw new SignInError(`Sign-in failed: ${reason}.`);
    }
    this.storage.setItem(TOKEN_KEY, data.id_token);
    return true;
  }
}
