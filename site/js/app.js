// The admin page: wires sign-in, the connection card, run buttons, live progress and history together.

import { ApiClient, ApiError } from "./api.js";
import { Auth, SignInError, displayName, loadConfig } from "./auth.js";
import {
  domainLabel,
  elapsedSeconds,
  eventLabel,
  formatCount,
  formatDuration,
  formatLocalTime,
  formatTimeLeft,
  nextBaseline,
  outcomeClass,
  percentDone,
  progressText,
  runSecondsLeft,
  runSummary,
  startedByText,
  statusClass,
  statusText,
} from "./format.js";
import { Poller } from "./poller.js";

const POLL_INTERVAL_MS = 3000;
const HISTORY_LIMIT = 20;
const DELIVERY_OUTCOMES = Object.freeze({
  applied: "Applied",
  skipped: "Skipped",
  stale: "Stale",
  unknown: "Unknown event",
  failed: "Failed",
});
const FORBIDDEN_MESSAGE = "Your account does not have the pco.manage permission";
const SESSION_ENDED = "Your session has ended. Please sign in again.";

const $ = (id) => document.getElementById(id);
const VIEWS = ["loading-view", "fatal-view", "signin-view", "forbidden-view", "dashboard-view"];

const state = {
  auth: null,
  api: null,
  activeRun: null, // the RUNNING run being watched, or null
  baseline: null, // where the time-left estimate measures from
  lastMilestone: -1,
  poller: null,
  startingRun: false,
  expandedErrors: new Set(),
  runsById: new Map(),
  idleCheck: false,
  deadLetters: 0,
  replaying: false,
};

// ---------- views and small helpers ----------

function showView(id) {
  for (const view of VIEWS) $(view).hidden = view !== id;
  $("account").hidden = !(id === "dashboard-view" || id === "forbidden-view");
}

function announce(text) {
  const el = $("announcer");
  el.textContent = "";
  // A fresh text node after a tick makes screen readers announce a repeated message too.
  window.setTimeout(() => {
    el.textContent = text;
  }, 50);
}

function setAlert(el, text) {
  el.textContent = text || "";
  el.hidden = !text;
}

function showPageError(text) {
  $("page-error-text").textContent = text || "";
  $("page-error").hidden = !text;
}

/** 401 and 403 mean the same thing wherever they happen; true when `err` was one of them. */
function handleAuthError(err) {
  if (!(err instanceof ApiError)) return false;
  if (err.status === 401) {
    stopWatching();
    state.auth.signOut();
    showSignIn(SESSION_ENDED);
    return true;
  }
  if (err.status === 403) {
    stopWatching();
    showForbidden();
    return true;
  }
  return false;
}

function errorText(err) {
  return err instanceof Error && err.message ? err.message : "Something went wrong. Please try again.";
}

// ---------- sign-in ----------

function showSignIn(message) {
  showView("signin-view");
  setAlert($("signin-error"), message);
  const local = state.auth?.mode !== "cognito";
  $("local-signin").hidden = !local;
  $("cognito-signin").hidden = local;
  (local ? $("role-select") : $("cognito-signin-button")).focus();
}

function showForbidden() {
  renderAccount();
  showView("forbidden-view");
  $("forbidden-message").textContent = FORBIDDEN_MESSAGE;
}

function renderAccount() {
  const name = displayName(state.auth.claims());
  $("account-name").textContent = name ? `Signed in as ${name}` : "Signed in";
}

async function onLocalSignIn(event) {
  event.preventDefault();
  const submit = $("local-signin-submit");
  submit.disabled = true;
  submit.textContent = "Signing in…";
  setAlert($("signin-error"), "");
  try {
    await state.auth.signInLocal($("role-select").value);
    await enterDashboard();
  } catch (err) {
    setAlert($("signin-error"), errorText(err));
  } finally {
    submit.disabled = false;
    submit.textContent = "Sign in";
  }
}

async function onCognitoSignIn() {
  $("cognito-signin-button").disabled = true;
  try {
    await state.auth.beginCognitoSignIn();
  } catch (err) {
    $("cognito-signin-button").disabled = false;
    setAlert($("signin-error"), errorText(err));
  }
}

function onSignOut() {
  stopWatching();
  state.auth.signOut();
  state.activeRun = null;
  showSignIn("You have signed out.");
}

// ---------- connection card ----------

function renderConnection(conn) {
  $("connection-checks").removeAttribute("aria-busy");
  for (const item of $("connection-checks").querySelectorAll(".check")) {
    const key = item.dataset.key;
    const isSet = Boolean(conn?.[key]);
    const optional = key === "webhook_secret_set";
    item.classList.toggle("check--ok", isSet);
    item.classList.toggle("check--missing", !isSet && !optional);
    item.classList.toggle("check--optional", !isSet && optional);
    item.querySelector(".check__state").textContent = isSet
      ? "Configured"
      : optional
        ? "Not configured (webhooks are not verified)"
        : "Not configured";
  }
  const url = conn?.webhook_url || "";
  $("webhook-url").value = url;
  $("webhook-url").placeholder = url ? "" : "Not available";
  $("copy-webhook").disabled = !url;
}

async function onCopyWebhook() {
  const input = $("webhook-url");
  const status = $("copy-status");
  try {
    await navigator.clipboard.writeText(input.value);
    status.textContent = "Webhook URL copied.";
  } catch {
    input.focus();
    input.select();
    const copied = document.execCommand && document.execCommand("copy");
    status.textContent = copied ? "Webhook URL copied." : "Press Ctrl+C (or ⌘C) to copy the selected URL.";
  }
}

async function onTestConnection() {
  const button = $("test-connection");
  const result = $("test-result");
  button.disabled = true;
  button.textContent = "Testing…";
  result.className = "test-result";
  result.textContent = "Contacting Planning Center…";
  try {
    const answer = await state.api.testConnection();
    if (answer?.ok) {
      result.classList.add("test-result--ok");
      result.textContent = `Connected to ${answer.organization || "Planning Center"}`;
    } else {
      result.classList.add("test-result--fail");
      result.textContent = `Connection failed: ${answer?.reason || "no reason given"}`;
    }
  } catch (err) {
    if (handleAuthError(err)) return;
    result.classList.add("test-result--fail");
    result.textContent = `Connection test failed: ${errorText(err)}`;
  } finally {
    button.disabled = false;
    button.textContent = "Test Connection";
  }
}

// ---------- runs: buttons, progress, polling ----------

function runButtons() {
  return document.querySelectorAll("[data-run-type]");
}

function updateButtons() {
  const locked = Boolean(state.activeRun) || state.startingRun;
  for (const button of runButtons()) button.disabled = locked;
  $("sync-lock-note").hidden = !state.activeRun;
}

async function onStartRun(event) {
  const button = event.currentTarget;
  const type = button.dataset.runType;
  const label = button.textContent.trim();
  if (state.activeRun || state.startingRun) return;
  setAlert($("run-error"), "");
  state.startingRun = true;
  updateButtons();
  try {
    const run = await state.api.startRun(type);
    state.startingRun = false;
    watchRun(run);
    announce(`${run.label || label} started.`);
    // The clicked button is now disabled: move focus somewhere useful rather than losing it.
    $("progress-title").focus({ preventScroll: true });
    $("progress-card").scrollIntoView({ block: "nearest", behavior: "smooth" });
  } catch (err) {
    state.startingRun = false;
    if (handleAuthError(err)) return;
    setAlert($("run-error"), `Could not start ${label}: ${errorText(err)}`);
    if (err instanceof ApiError && err.status === 409) {
      // Someone (or the schedule) started a run: show it.
      await checkForActiveRun();
    }
  } finally {
    updateButtons();
  }
}

function watchRun(run) {
  state.activeRun = run;
  state.baseline = nextBaseline(null, run, Date.now());
  state.lastMilestone = -1;
  renderProgress(run);
  updateButtons();
  if (!state.poller) state.poller = new Poller(pollTick, POLL_INTERVAL_MS);
  state.poller.start();
}

function stopWatching() {
  if (state.poller) state.poller.stop();
}

function renderCounters(run) {
  $("count-created").textContent = formatCount(run.created);
  $("count-updated").textContent = formatCount(run.updated);
  $("count-skipped").textContent = formatCount(run.skipped);
  $("count-failed").textContent = formatCount(run.failed);
  $("count-failed").closest(".counter").classList.toggle("counter--alert", Number(run.failed) > 0);
}

function renderStatusBadge(el, status) {
  el.className = `badge ${statusClass(status)}`;
  el.textContent = statusText(status);
}

function setBar(pct) {
  const bar = $("progress-bar");
  if (pct === null) {
    bar.classList.add("progress__track--indeterminate");
    bar.removeAttribute("aria-valuenow");
    bar.setAttribute("aria-valuetext", "Counting records…");
    $("progress-fill").style.width = "";
    $("progress-percent").textContent = "";
  } else {
    bar.classList.remove("progress__track--indeterminate");
    bar.setAttribute("aria-valuenow", String(pct));
    bar.setAttribute("aria-valuetext", `${pct}%`);
    $("progress-fill").style.width = `${pct}%`;
    $("progress-percent").textContent = `${pct}%`;
  }
}

function renderProgress(run) {
  const card = $("progress-card");
  const running = run.status === "RUNNING";
  card.hidden = false;
  card.classList.toggle("card--progress-done", !running);
  card.classList.toggle("card--progress-completed", run.status === "COMPLETED");
  card.classList.toggle("card--progress-failed", run.status === "FAILED");
  card.setAttribute("aria-busy", running ? "true" : "false");
  $("progress-spinner").hidden = !running;
  $("cancel-run").hidden = !running;
  $("cancel-run").disabled = false;
  $("cancel-run").textContent = "Cancel run";
  $("progress-label").textContent = run.label || run.type;
  renderStatusBadge($("progress-status"), run.status);
  const started = formatLocalTime(run.started_at);
  const by = run.started_by ? ` by ${startedByText(run.started_by)}` : "";
  $("progress-started").textContent = `Started ${started}${by}`;
  renderCounters(run);

  const progress = run.progress || {};
  if (running) {
    const pct = percentDone(progress.processed, progress.total);
    $("progress-domain").textContent = progressText(progress) || "Starting…";
    setBar(progress.domain ? pct : null);
    const now = Date.now();
    const left = runSecondsLeft(run, state.baseline, now);
    const elapsed = formatDuration(elapsedSeconds(run.started_at, now));
    $("progress-eta").textContent = `${formatTimeLeft(left)} · running for ${elapsed}`;
    announceMilestone(run, pct);
  } else {
    const pct = run.status === "COMPLETED" ? 100 : percentDone(progress.processed, progress.total);
    $("progress-domain").textContent =
      run.status === "COMPLETED" ? "All done" : progressText(progress) || domainLabel(progress.domain);
    setBar(pct ?? 0);
    $("progress-eta").textContent = `Finished after ${formatDuration(run.duration_seconds)}`;
  }
  setAlert($("progress-error"), run.status === "FAILED" && run.error ? `Error: ${run.error}` : "");
}

function announceMilestone(run, pct) {
  if (pct === null) return;
  const milestone = Math.floor(pct / 25) * 25;
  if (milestone > state.lastMilestone && milestone > 0) {
    announce(`${run.label || run.type}: ${progressText(run.progress)}, ${pct}% done.`);
  }
  state.lastMilestone = Math.max(state.lastMilestone, milestone);
}

/** One poll of the active run; resolves false when polling should stop. */
async function pollTick() {
  const watched = state.activeRun;
  if (!watched) return false;
  let current;
  try {
    current = await state.api.currentRun();
  } catch (err) {
    if (handleAuthError(err)) return false;
    if (state.activeRun?.id !== watched.id) return false;
    setAlert($("progress-error"), `Lost contact with the API (${errorText(err)}). Retrying…`);
    return true;
  }
  if (state.activeRun?.id !== watched.id) return false; // cancelled or replaced meanwhile
  setAlert($("progress-error"), "");
  if (current && current.status === "RUNNING") {
    if (current.id !== watched.id) state.baseline = null;
    state.activeRun = current;
    state.baseline = nextBaseline(state.baseline, current, Date.now());
    renderProgress(current);
    return true;
  }
  const ended = current && current.id === watched.id ? current : null;
  await finishRun(watched, ended);
  return false;
}

/** The watched run is no longer active: show how it ended and refresh history. */
async function finishRun(watched, endedRun) {
  state.activeRun = null;
  state.baseline = null;
  updateButtons();
  await loadHistory();
  const final = endedRun || state.runsById.get(watched.id);
  if (final && final.status !== "RUNNING") {
    renderProgress(final);
    announce(runSummary(final));
  } else {
    $("progress-card").hidden = true;
    announce(`${watched.label || watched.type} has ended.`);
  }
}

async function onCancelRun() {
  const run = state.activeRun;
  if (!run) return;
  const button = $("cancel-run");
  button.disabled = true;
  button.textContent = "Cancelling…";
  try {
    const answer = await state.api.cancelRun(run.id);
    if (answer && answer.status && answer.status !== "RUNNING") {
      stopWatching();
      await finishRun(run, answer);
    }
  } catch (err) {
    if (handleAuthError(err)) return;
    if (err instanceof ApiError && err.status === 409) {
      // The run ended on its own before the cancel arrived.
      stopWatching();
      await finishRun(run, null);
      setAlert($("run-error"), `Could not cancel: ${errorText(err)}`);
    } else {
      button.disabled = false;
      button.textContent = "Cancel run";
      setAlert($("progress-error"), `Could not cancel: ${errorText(err)}`);
    }
  }
}

/** Look for a run started elsewhere (another admin, the schedule) and watch it. */
async function checkForActiveRun() {
  if (state.idleCheck || state.activeRun) return;
  state.idleCheck = true;
  try {
    const current = await state.api.currentRun();
    if (current && current.status === "RUNNING" && !state.activeRun) watchRun(current);
  } catch (err) {
    if (!handleAuthError(err)) showPageError(`Could not check for a running sync: ${errorText(err)}`);
  } finally {
    state.idleCheck = false;
  }
}

// ---------- history ----------

function cell(text, label, className) {
  const td = document.createElement("td");
  td.dataset.label = label;
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

/** The "By" cell: an email may break after its "@" rather than mid-word. */
function byCell(text) {
  const td = cell("", "By", "history__by");
  const at = text.indexOf("@");
  if (at > 0) {
    td.append(text.slice(0, at), document.createElement("wbr"), text.slice(at));
  } else {
    td.textContent = text;
  }
  return td;
}

function toggleError(row) {
  const id = row.dataset.runId;
  const detail = document.getElementById(row.getAttribute("aria-controls"));
  const open = row.getAttribute("aria-expanded") !== "true";
  row.setAttribute("aria-expanded", String(open));
  detail.hidden = !open;
  if (open) state.expandedErrors.add(id);
  else state.expandedErrors.delete(id);
}

function historyRow(run, index) {
  const tr = document.createElement("tr");
  tr.dataset.runId = run.id;
  tr.appendChild(cell(run.label || run.type, "Type", "history__type"));

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
  tr.appendChild(cell(run.status === "RUNNING" ? "Running…" : formatDuration(run.duration_seconds), "Duration"));
  tr.appendChild(cell(formatCount(run.created), "Created", "num"));
  tr.appendChild(cell(formatCount(run.updated), "Updated", "num"));
  tr.appendChild(cell(formatCount(run.skipped), "Skipped", "num"));
  tr.appendChild(byCell(startedByText(run.started_by)));

  const rows = [tr];
  // A failed run always has its error; a cancelled one may carry why (e.g. a scheduled run skipped).
  if (run.error && (run.status === "FAILED" || run.status === "CANCELLED")) {
    const detailId = `run-error-${index}`;
    const what = run.status === "FAILED" ? "error" : "reason";
    tr.classList.add("history__row--expandable");
    tr.tabIndex = 0;
    tr.setAttribute("role", "button");
    tr.setAttribute("aria-controls", detailId);
    tr.setAttribute(
      "aria-label",
      `${run.label || run.type}, ${run.status.toLowerCase()} ${formatLocalTime(run.started_at)}: show ${what}`,
    );
    const hint = document.createElement("span");
    hint.className = "history__hint";
    hint.textContent = `View ${what}`;
    statusWrap.appendChild(hint);

    const detail = document.createElement("tr");
    detail.id = detailId;
    detail.className = "history__detail";
    const td = document.createElement("td");
    td.colSpan = 8;
    const heading = document.createElement("strong");
    heading.textContent = what === "error" ? "Error: " : "Reason: ";
    const pre = document.createElement("span");
    pre.className = "history__error";
    pre.textContent = run.error || "No error message was recorded.";
    td.append(heading, pre);
    detail.appendChild(td);

    const open = state.expandedErrors.has(run.id);
    tr.setAttribute("aria-expanded", String(open));
    detail.hidden = !open;
    tr.addEventListener("click", () => toggleError(tr));
    tr.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        toggleError(tr);
      }
    });
    rows.push(detail);
  }
  return rows;
}

function renderHistory(runs) {
  state.runsById = new Map(runs.map((run) => [run.id, run]));
  const body = $("history-body");
  const focusedId = document.activeElement?.closest?.("tr")?.dataset?.runId;
  body.replaceChildren(...runs.flatMap((run, i) => historyRow(run, i)));
  $("history-empty").hidden = runs.length > 0;
  $("history-table").hidden = runs.length === 0;
  if (focusedId) body.querySelector(`tr[data-run-id="${CSS.escape(focusedId)}"]`)?.focus();
}

async function loadHistory() {
  const button = $("refresh-history");
  button.disabled = true;
  try {
    const [runs] = await Promise.all([state.api.listRuns(HISTORY_LIMIT), loadWebhooks()]);
    renderHistory(runs);
  } catch (err) {
    if (!handleAuthError(err)) showPageError(`Could not load the sync history: ${errorText(err)}`);
  } finally {
    button.disabled = false;
  }
}

// ---------- webhook deliveries ----------

function deliveryRow(delivery) {
  const tr = document.createElement("tr");
  tr.dataset.deliveryId = delivery.id ?? "";
  const event = cell(eventLabel(delivery.event), "Event", "history__type");
  if (delivery.event) event.title = delivery.event;
  tr.appendChild(event);
  tr.appendChild(cell(delivery.resource || "—", "Resource"));
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

function renderDeadLetters() {
  const count = state.deadLetters;
  $("dead-letter-count").textContent =
    count === 1
      ? "1 delivery waits in the dead-letter queue"
      : `${formatCount(count)} deliveries wait in the dead-letter queue`;
  $("dead-letter-count").classList.toggle("dead-letters__count--alert", count > 0);
  $("replay-dead-letters").disabled = count === 0 || state.replaying;
}

function renderWebhooks(answer) {
  const deliveries = Array.isArray(answer?.deliveries) ? answer.deliveries : [];
  $("deliveries-body").replaceChildren(...deliveries.map(deliveryRow));
  $("deliveries-empty").hidden = deliveries.length > 0;
  $("deliveries-table").hidden = deliveries.length === 0;
  state.deadLetters = Number(answer?.dead_letter_count ?? 0);
  renderDeadLetters();
}

/** Refreshed with the history; its failure is shown on its own so the history still renders. */
async function loadWebhooks() {
  try {
    renderWebhooks(await state.api.webhookDeliveries());
  } catch (err) {
    if (!handleAuthError(err)) showPageError(`Could not load the webhook deliveries: ${errorText(err)}`);
  }
}

async function onReplayDeadLetters() {
  const button = $("replay-dead-letters");
  const result = $("replay-result");
  state.replaying = true;
  renderDeadLetters();
  button.textContent = "Replaying…";
  result.textContent = "";
  try {
    const answer = await state.api.replayDeadLetters();
    const moving = Number(answer?.moving ?? 0);
    result.textContent =
      moving === 1
        ? "Replaying 1 dead letter: it goes back to the webhook queue."
        : `Replaying ${formatCount(moving)} dead letters: they go back to the webhook queue.`;
  } catch (err) {
    if (handleAuthError(err)) return;
    result.textContent =
      err instanceof ApiError && err.status === 409
        ? "A replay is already running; refresh in a moment to see it finish."
        : `Could not replay the dead letters: ${errorText(err)}`;
  } finally {
    state.replaying = false;
    button.textContent = "Replay dead letters";
    renderDeadLetters();
  }
}

// ---------- start-up ----------

async function enterDashboard() {
  showView("loading-view");
  renderAccount();
  let connection;
  try {
    connection = await state.api.getConnection();
  } catch (err) {
    if (handleAuthError(err)) return;
    connection = null;
    showPageError(`Could not load the connection settings: ${errorText(err)}`);
  }
  showView("dashboard-view");
  if (connection) renderConnection(connection);
  updateButtons();
  await Promise.all([loadHistory(), checkForActiveRun()]);
  $("main").focus({ preventScroll: true });
}

function onVisibilityChange() {
  // The run poller resumes itself; when idle, catch up with anything that happened while hidden.
  if (document.hidden || $("dashboard-view").hidden || state.activeRun) return;
  checkForActiveRun();
  loadHistory();
}

function bindEvents() {
  $("local-signin").addEventListener("submit", onLocalSignIn);
  $("cognito-signin-button").addEventListener("click", onCognitoSignIn);
  $("sign-out").addEventListener("click", onSignOut);
  $("copy-webhook").addEventListener("click", onCopyWebhook);
  $("test-connection").addEventListener("click", onTestConnection);
  $("cancel-run").addEventListener("click", onCancelRun);
  $("refresh-history").addEventListener("click", loadHistory);
  $("replay-dead-letters").addEventListener("click", onReplayDeadLetters);
  $("page-error-dismiss").addEventListener("click", () => showPageError(""));
  $("fatal-retry").addEventListener("click", () => window.location.reload());
  for (const button of runButtons()) button.addEventListener("click", onStartRun);
  document.addEventListener("visibilitychange", onVisibilityChange);
}

async function main() {
  bindEvents();
  let config;
  try {
    config = await loadConfig();
  } catch (err) {
    showView("fatal-view");
    $("fatal-message").textContent = errorText(err);
    return;
  }
  state.auth = new Auth(config);
  state.api = new ApiClient(config.apiBaseUrl, () => state.auth.token());
  if (state.auth.mode === "cognito") {
    try {
      await state.auth.completeCognitoSignIn();
    } catch (err) {
      showSignIn(err instanceof SignInError ? err.message : errorText(err));
      return;
    }
  }
  if (!state.auth.token()) {
    showSignIn("");
    return;
  }
  await enterDashboard();
}

main();
