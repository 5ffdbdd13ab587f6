// Pure formatting and estimation for the admin page: no DOM, no fetch, so it can be tested on its own.

// Keyed by a run's status or, better, its outcome (the API's derived reading of how it ended).
export const STATUS_CLASSES = Object.freeze({
  COMPLETED: "badge--completed",
  COMPLETED_WITH_FAILURES: "badge--warning",
  SKIPPED: "badge--cancelled",
  FAILED: "badge--failed",
  RUNNING: "badge--running",
  CANCELLED: "badge--cancelled",
});

const STATUS_TEXT = Object.freeze({
  COMPLETED: "Completed",
  COMPLETED_WITH_FAILURES: "Completed with failures",
  SKIPPED: "Skipped",
  FAILED: "Failed",
  RUNNING: "Running",
  CANCELLED: "Cancelled",
});

const DOMAIN_LABELS = Object.freeze({
  people: "People",
  people_changes: "Changed people",
  email_changes: "Changed emails",
  phone_changes: "Changed phone numbers",
  address_changes: "Changed addresses",
  families: "Families",
  groups: "Groups",
  memberships: "Group memberships",
  membership_changes: "Group memberships (changed groups)",
  audit_people: "Checking every PCO person is here",
  audit_households: "Checking every PCO household is here",
  push_people: "People",
  push_families: "Families",
  push_memberships: "Group memberships",
});

/** How a run ended, as the page shows it: its outcome when the API gave one, else its status. */
export function runOutcome(run) {
  return run?.outcome || run?.status;
}

const KIND_TEXT = Object.freeze({ person: "Person", family: "Family", group: "Group", membership: "Membership" });

/** One failed record's heading: "Ada Lovelace (person)", or its ids when it has no name. */
export function failureTitle(failure) {
  const kind = KIND_TEXT[failure?.kind] ?? "Record";
  const name = String(failure?.name ?? "").trim();
  if (name) return `${name} (${kind.toLowerCase()})`;
  if (failure?.pco_id) return `${kind} with PCO id ${failure.pco_id}`;
  return failure?.record_id ? `${kind} ${failure.record_id}` : kind;
}

/** "Showing the first 200 of 312 failed records." / "2 records failed." */
export function failuresSummary(total, kept) {
  const all = Number(total ?? 0);
  const shown = Number(kept ?? 0);
  if (all === 0) return "No record failed.";
  const noun = all === 1 ? "record" : "records";
  if (shown < all) return `Showing the first ${formatCount(shown)} of ${formatCount(all)} failed ${noun}.`;
  return `${formatCount(all)} ${noun} failed.`;
}

/** The badge modifier class for a run status ("" for an unknown one). */
export function statusClass(status) {
  return STATUS_CLASSES[status] ?? "";
}

/** Human text for a run status. */
export function statusText(status) {
  return STATUS_TEXT[status] ?? String(status ?? "Unknown");
}

/** Human label of a progress domain ("memberships" -> "Group memberships"). */
export function domainLabel(domain) {
  if (!domain) return "";
  return DOMAIN_LABELS[domain] ?? domain.charAt(0).toUpperCase() + domain.slice(1);
}

/** "2 min 5 s", "45 s", "1 h 2 min", "< 1 s"; "—" when unknown. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "—";
  const total = Math.max(0, Number(seconds));
  if (total < 1) return "< 1 s";
  const whole = Math.round(total);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = whole % 60;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return secs > 0 ? `${minutes} min ${secs} s` : `${minutes} min`;
  return `${secs} s`;
}

/** A count with thousands separators; "0" for a missing one. */
export function formatCount(value, locale) {
  const n = Number(value ?? 0);
  return (Number.isFinite(n) ? n : 0).toLocaleString(locale);
}

/** An ISO-8601 timestamp shown in the viewer's local time, e.g. "Nov 24, 2026, 8:05 AM"; "—" when missing. */
export function formatLocalTime(iso, locale) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return date.toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}

/** Whole percent done (0-100), or null when the total is not known yet. */
export function percentDone(processed, total) {
  const done = Number(processed ?? 0);
  const all = Number(total);
  if (total === null || total === undefined || !Number.isFinite(all) || all <= 0) return null;
  const pct = Math.floor((Math.max(0, done) / all) * 100);
  return Math.min(100, Math.max(0, pct));
}

/**
 * Seconds left at the rate seen so far: elapsed * remaining / processed.
 * null when there is nothing to go on (no total, nothing processed yet, no time elapsed).
 */
export function estimateSecondsLeft(processed, total, elapsedSeconds) {
  const done = Number(processed ?? 0);
  const all = Number(total);
  const elapsed = Number(elapsedSeconds);
  if (total === null || total === undefined || !Number.isFinite(all) || all <= 0) return null;
  if (!Number.isFinite(done) || done <= 0 || !Number.isFinite(elapsed) || elapsed <= 0) return null;
  const remaining = Math.max(0, all - done);
  return (elapsed * remaining) / done;
}

/** "About 3 min left", "Less than a minute left", "Almost done"; "Estimating time left…" when unknown. */
export function formatTimeLeft(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "Estimating time left…";
  if (seconds < 5) return "Almost done";
  if (seconds < 60) return "Less than a minute left";
  if (seconds < 3600) return `About ${Math.round(seconds / 60)} min left`;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.round((seconds % 3600) / 60);
  return minutes > 0 ? `About ${hours} h ${minutes} min left` : `About ${hours} h left`;
}

/** Seconds between an ISO start and `nowMs` (never negative); null for a bad start. */
export function elapsedSeconds(startedIso, nowMs) {
  const start = Date.parse(startedIso);
  if (Number.isNaN(start)) return null;
  return Math.max(0, (nowMs - start) / 1000);
}

/**
 * "People: 120 of 500", "People: 120 processed" when the total is unknown, "Step 2 of 3: Families: 12 of
 * 80" in a run of several steps; "" with no domain.
 */
export function progressText(progress, locale) {
  if (!progress || !progress.domain) return "";
  const label = domainLabel(progress.domain);
  const steps = Number(progress.steps);
  const step = steps > 1 && progress.step ? `Step ${progress.step} of ${steps}: ` : "";
  const done = formatCount(progress.processed, locale);
  if (progress.total === null || progress.total === undefined) return `${step}${label}: ${done} processed`;
  return `${step}${label}: ${done} of ${formatCount(progress.total, locale)}`;
}

/** The whole run's percentage: the API's (weighted over every step, never backwards), else the step's. */
export function overallPercent(progress) {
  const given = progress?.percent;
  if (given !== null && given !== undefined && Number.isFinite(Number(given))) {
    return Math.min(100, Math.max(0, Math.floor(Number(given))));
  }
  return percentDone(progress?.processed, progress?.total);
}

/**
 * A run's counters per step, when it has several: "Groups: 12 created; Group memberships: 125 created, 3
 * updated". "" for a run of one step (its counters say it all).
 */
export function countsSplitText(byDomain, locale) {
  const steps = Object.entries(byDomain ?? {});
  if (steps.length < 2) return "";
  return steps
    .map(([domain, counts]) => {
      const parts = ["created", "updated", "failed"]
        .filter((name) => Number(counts?.[name]) > 0)
        .map((name) => `${formatCount(counts[name], locale)} ${name}`);
      return `${domainLabel(domain)}: ${parts.length ? parts.join(", ") : "no changes"}`;
    })
    .join("; ");
}

/** Whole seconds until a running run's wait ends ({reason, until} from the API), or null when it is not waiting. */
export function waitSecondsLeft(run, nowMs) {
  const until = Date.parse(run?.waiting?.until ?? "");
  if (run?.status !== "RUNNING" || Number.isNaN(until)) return null;
  const left = Math.ceil((until - nowMs) / 1000);
  return left > 0 ? left : null;
}

/** What the run waits for, in words: PCO's rate limit, or PCO being unavailable (which attempt comes). */
export function waitText(seconds, waiting = null) {
  if (waiting?.reason === "pco_unavailable") {
    const which = waiting.attempt && waiting.attempts ? ` (attempt ${waiting.attempt} of ${waiting.attempts})` : "";
    return `Planning Center is not answering: trying again${which} in ${formatDuration(seconds)}`;
  }
  return `Waiting for Planning Center's rate limit (it allows 100 requests per 20 s): continuing in ${formatDuration(seconds)}`;
}

/** Who started a run, for the history's "By" column ("schedule" reads as "Schedule"). */
export function startedByText(startedBy) {
  if (!startedBy) return "—";
  if (startedBy === "schedule") return "Schedule";
  return startedBy;
}

/** A one-line summary of a finished run for the live region. */
export function runSummary(run, locale) {
  const counts =
    `${formatCount(run.created, locale)} created, ${formatCount(run.updated, locale)} updated, ` +
    `${formatCount(run.skipped, locale)} skipped, ${formatCount(run.failed, locale)} failed`;
  return `${run.label || run.type} ${statusText(runOutcome(run)).toLowerCase()}: ${counts}.`;
}

// The first domain each run type walks (mirrors pco_core.runstate.RUN_DOMAINS).
const FIRST_DOMAIN = Object.freeze({
  incremental_sync: "people_changes",
  people: "people_changes",
  families: "families",
  groups: "groups",
  full_sync: "people",
  push_people: "push_people",
  push_families: "push_families",
  push_memberships: "push_memberships",
  full_push: "push_people",
});

/**
 * Where the rate for the time-left estimate is measured from: {runId, domain, startMs, startProcessed}.
 * Progress counts are per domain, so the baseline restarts when the domain changes. On the first look at
 * a run still in its first domain the run's own start is the baseline; otherwise it is "now".
 */
export function nextBaseline(previous, run, nowMs) {
  if (hasOverall(run)) return overallBaseline(previous, run, nowMs);
  const domain = run?.progress?.domain ?? null;
  if (previous && previous.runId === run.id && previous.domain === domain) return previous;
  const firstLook = !previous || previous.runId !== run.id;
  const started = Date.parse(run.started_at);
  if (firstLook && domain === FIRST_DOMAIN[run.type] && !Number.isNaN(started)) {
    return { runId: run.id, domain, startMs: started, startProcessed: 0 };
  }
  return { runId: run.id, domain, startMs: nowMs, startProcessed: Number(run?.progress?.processed ?? 0) };
}

function hasOverall(run) {
  const given = run?.progress?.percent;
  return given !== null && given !== undefined;
}

/**
 * With the whole run's percentage the rate is measured over the run, not per step: from the run's start
 * on the first look, else from the first look at it.
 */
function overallBaseline(previous, run, nowMs) {
  if (previous && previous.runId === run.id && previous.overall) return previous;
  const started = Date.parse(run.started_at);
  if (!previous || previous.runId !== run.id) {
    if (!Number.isNaN(started)) return { runId: run.id, overall: true, startMs: started, startProcessed: 0 };
  }
  return { runId: run.id, overall: true, startMs: nowMs, startProcessed: overallPercent(run.progress) ?? 0 };
}

/** Seconds left for `run` measured from `baseline` (see nextBaseline); null when unknown. */
export function runSecondsLeft(run, baseline, nowMs) {
  const progress = run?.progress;
  if (!progress || !baseline) return null;
  if (baseline.overall) {
    const done = overallPercent(progress) - baseline.startProcessed;
    return estimateSecondsLeft(done, 100 - baseline.startProcessed, (nowMs - baseline.startMs) / 1000);
  }
  const total = progress.total;
  if (total === null || total === undefined) return null;
  const doneSince = Number(progress.processed ?? 0) - baseline.startProcessed;
  const totalSince = Number(total) - baseline.startProcessed;
  return estimateSecondsLeft(doneSince, totalSince, (nowMs - baseline.startMs) / 1000);
}

const OUTCOME_CLASSES = Object.freeze({
  applied: "badge--completed",
  skipped: "badge--cancelled",
  stale: "badge--cancelled",
  unknown: "badge--cancelled", // an event nothing here handles: informational, not a failure
  failed: "badge--failed", // could not be queued (too large): the next pull applies the change
});

/** The badge modifier class of a webhook delivery's outcome ("" for one the page does not know). */
export function outcomeClass(outcome) {
  return OUTCOME_CLASSES[outcome] ?? "";
}

/** "people.v2.events.person.updated" -> "person.updated": the product and version say nothing new. */
export function eventLabel(name) {
  if (!name) return "—";
  const parts = String(name).split(".events.");
  return parts.length === 2 ? parts[1] : String(name);
}

/**
 * A delivery's resource ("<JSON:API type> <id>", as the API logs it) for people: "PhoneNumber 12" ->
 * "Phone number 12". Anything else is shown as the API gave it; "—" when there is none.
 */
export function resourceLabel(resource) {
  const text = String(resource ?? "").trim();
  if (!text) return "—";
  const match = /^([A-Z][A-Za-z]*) (\S+)$/.exec(text);
  if (!match) return text;
  const words = match[1].replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return `${words.charAt(0).toUpperCase()}${words.slice(1)} ${match[2]}`;
}

const TOTALS_KINDS = Object.freeze([
  ["people", "people"],
  ["households", "households"],
  ["groups", "groups"],
]);

/**
 * A run's drift check, one entry per kind it counted: {kind, pco, local, drifted}. `local` is null when
 * the run counted only PCO's side (e.g. an incremental run's household walk).
 */
export function totalsRows(run) {
  const totals = run?.totals || {};
  return TOTALS_KINDS.filter(([key]) => totals[key] && totals[key].pco !== null && totals[key].pco !== undefined)
    .map(([key, kind]) => {
      const { pco, local } = totals[key];
      const known = local !== null && local !== undefined;
      return {
        kind,
        pco: Number(pco),
        local: known ? Number(local) : null,
        drifted: known && Number(local) !== Number(pco),
      };
    });
}

/** "PCO 10,000 people · 10,000 linked here; PCO 3,900 households · 3,899 linked here"; "" when none. */
export function totalsText(run, locale) {
  return totalsRows(run)
    .map(({ kind, pco, local }) => {
      const there = `PCO ${formatCount(pco, locale)} ${kind}`;
      return local === null ? there : `${there} · ${formatCount(local, locale)} linked here`;
    })
    .join("; ");
}

/**
 * The warning a completed Full Sync whose counts disagree deserves ("" when they agree or the run is not
 * a completed Full Sync): after the walk and the audit, PCO and the local records should hold the same.
 */
export function driftWarning(run, locale) {
  if (!run || run.type !== "full_sync" || run.status !== "COMPLETED") return "";
  const drifted = totalsRows(run).filter((row) => row.drifted);
  if (drifted.length === 0) return "";
  const parts = drifted.map(
    ({ kind, pco, local }) =>
      `PCO has ${formatCount(pco, locale)} ${kind}, ${formatCount(local, locale)} are linked here`,
  );
  const when = formatLocalTime(run.started_at, locale);
  return (
    `The Full Sync of ${when} ended with PCO and these records apart: ${parts.join("; ")}. ` +
    "Records PCO could not give or that could not be linked are counted as failed; the next Full Sync tries again."
  );
}
