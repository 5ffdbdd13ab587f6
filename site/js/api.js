// The admin API client: JSON in and out, the bearer token on every call, errors as ApiError.

/** An API answer that was not a success; `message` is the server's own message when it sent one. */
export class ApiError extends Error {
  constructor(status, message, details = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.details = details;
  }
}

const NETWORK_MESSAGE = "Could not reach the PCO Sync API. Check your connection and try again.";

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export class ApiClient {
  /**
   * @param {string} baseUrl "" for the same origin, or the deployed API's URL.
   * @param {() => string | null} getToken the current bearer token.
   */
  constructor(baseUrl, getToken) {
    this.baseUrl = (baseUrl || "").replace(/\/+$/, "");
    this.getToken = getToken;
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    const token = this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, init);
    } catch {
      throw new ApiError(0, NETWORK_MESSAGE);
    }
    const data = await readBody(response);
    if (!response.ok) {
      const message =
        data && typeof data.message === "string" && data.message
          ? data.message
          : `The server answered HTTP ${response.status}.`;
      throw new ApiError(response.status, message, data?.details ?? null);
    }
    return data;
  }

  getConnection() {
    return this.request("GET", "/api/connection");
  }

  testConnection() {
    return this.request("POST", "/api/connection/test");
  }

  startRun(type) {
    return this.request("POST", "/api/runs", { type });
  }

  async currentRun() {
    const data = await this.request("GET", "/api/runs/current");
    return data?.run ?? null;
  }

  async listRuns(limit = 20) {
    const data = await this.request("GET", `/api/runs?limit=${encodeURIComponent(limit)}`);
    return Array.isArray(data?.runs) ? data.runs : [];
  }

  /** {schedules: [{expression, timezone, enabled, next_run_at, run_type}]}, most frequent first */
  schedule() {
    return this.request("GET", "/api/schedule");
  }

  /** {run_id, total, kept, failures: [{kind, record_id, pco_id, name, operation, status, message, at}]} */
  runFailures(id) {
    return this.request("GET", `/api/runs/${encodeURIComponent(id)}/failures`);
  }

  cancelRun(id) {
    return this.request("POST", `/api/runs/${encodeURIComponent(id)}/cancel`);
  }

  /** A new run that goes on from where the failed run `id` stopped: the new run (202). */
  resumeRun(id) {
    return this.request("POST", `/api/runs/${encodeURIComponent(id)}/resume`);
  }

  /** {deliveries: [{id, event, resource, received_at, outcome}], dead_letter_count} */
  webhookDeliveries() {
    return this.request("GET", "/api/webhooks/deliveries");
  }

  /** {items: [{id, record_kind, record_id, label, field, base, local, pco, detected_at, status}], next_cursor} */
  listConflicts(status = "open", limit = 50) {
    const query = `status=${encodeURIComponent(status)}&limit=${encodeURIComponent(limit)}`;
    return this.request("GET", `/api/conflicts?${query}`);
  }

  /** Resolve a conflict: {keep: "local" | "pco"} or {value}; the conflict as resolved. */
  resolveConflict(id, choice) {
    return this.request("POST", `/api/conflicts/${encodeURIComponent(id)}/resolve`, choice);
  }

  /** Start moving the dead letters back to the webhook queue: {moving}. */
  replayDeadLetters() {
    return this.request("POST", "/api/webhooks/replay");
  }
}
