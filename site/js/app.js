// The admin page's entry point: loads config.json, signs in, and wires the page sections together.
// Each section (connection.js, runs.js, history.js, conflicts.js, webhooks.js) owns its own state and DOM; this file only
// connects them and runs the idle refresh that keeps the dashboard current without a click.

import { ApiClient } from "./api.js";
import { Auth, loadConfig } from "./auth.js";
import { ConflictsCard } from "./conflicts.js";
import { ConnectionCard } from "./connection.js";
import { explainCaught } from "./errors.js";
import { FailuresDialog } from "./failures.js";
import { HistoryCard } from "./history.js";
import { Poller } from "./poller.js";
import { RunsCard } from "./runs.js";
import { ScheduleNote } from "./schedule.js";
import { Session } from "./session.js";
import { Shell } from "./shell.js";
import { WebhooksCard } from "./webhooks.js";

// While no run is watched the page still looks for runs started elsewhere (the schedule, another admin)
// and new webhook deliveries: ten times slower than the 3 s poll of a running run, paused while hidden.
const IDLE_REFRESH_MS = 30_000;

function createDashboard(config) {
  const shell = new Shell();
  const auth = new Auth(config);
  const api = new ApiClient(config.apiBaseUrl, () => auth.token());
  let idle = null;
  let runs = null;

  const session = new Session({
    auth,
    shell,
    onSignedIn: () => enterDashboard(),
    onEnded: () => {
      idle.stop();
      runs.stop();
      failures.close();
    },
  });
  const deps = {
    api,
    handleAuthError: (err) => session.handleAuthError(err),
    announce: (text) => shell.announce(text),
    showPageError: (message, prefix, source) => shell.showPageError(message, prefix, source),
    clearPageError: (source) => shell.clearPageError(source),
  };

  /** Load one section, reporting its failure on its own so the others still render. */
  async function load(section, what) {
    try {
      await section.load();
      shell.clearPageError(what);
      return true;
    } catch (err) {
      if (!deps.handleAuthError(err)) shell.showPageError(explainCaught(err), `Could not load ${what}`, what);
      return false;
    }
  }

  const connection = new ConnectionCard(deps);
  const webhooks = new WebhooksCard(deps);
  const conflicts = new ConflictsCard(deps);
  const schedule = new ScheduleNote(deps);
  const failures = new FailuresDialog(deps);
  const openFailures = (run, opener) => failures.open(run, opener);
  const history = new HistoryCard(deps, {
    onRefresh: () => refreshLists(),
    onResume: (run) => runs.resume(run),
    openFailures,
  });
  runs = new RunsCard(deps, {
    refreshAfterRun: () => refreshLists(),
    findRun: (id) => history.run(id),
    onWatching: (watching) => (watching ? idle.stop() : idle.start()),
    openFailures,
  });

  async function refreshLists() {
    await Promise.all([
      load(history, "the sync history"),
      load(webhooks, "the webhook deliveries"),
      load(conflicts, "the conflicts"),
      load(schedule, "the sync schedule"),
    ]);
  }

  idle = new Poller(async () => {
    await Promise.all([refreshLists(), runs.refreshIdle()]);
    return true;
  }, IDLE_REFRESH_MS);

  async function enterDashboard() {
    shell.showView("loading-view");
    session.renderAccount();
    const connected = await load(connection, "the connection settings");
    if (!connected && !shell.isShowing("loading-view")) return; // a 401/403 has shown its own view
    shell.showView("dashboard-view");
    runs.updateButtons();
    await Promise.all([refreshLists(), runs.checkForActiveRun()]);
    if (!shell.isShowing("dashboard-view")) return;
    if (!runs.watching) idle.start();
    shell.focusMain();
  }

  return { shell, session, enterDashboard };
}

async function main() {
  let config;
  try {
    config = await loadConfig();
  } catch (err) {
    new Shell().showFatal(explainCaught(err).sentence);
    return;
  }
  const { session, enterDashboard } = createDashboard(config);
  if (!(await session.completeRedirect())) return;
  if (!session.isSignedIn()) {
    session.showSignIn("");
    return;
  }
  await enterDashboard();
}

main();
