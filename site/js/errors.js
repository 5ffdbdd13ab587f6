// What an admin reads when something failed: a sentence saying what happened and what to do, with the
// technical text (an exception's class name and message) kept apart for a "Details" disclosure.
// Pure: no DOM, no fetch, so it is tested on its own like format.js.

const CREDENTIALS_HINT =
  "Correct the stack's PcoAppId and PcoSecret parameters and deploy again (under make run: PCO_APP_ID and " +
  "PCO_SECRET), then press Test Connection.";
const SUPPORT_HINT = "If it happens again, send the details to whoever looks after PCO Sync.";

const UNREACHABLE =
  "PCO Sync could not reach Planning Center, even after retrying. Start the run again later; if it keeps " +
  "happening, check the stack's PcoBaseUrl parameter.";
const RESUME_HINT = "Resume the run (below its error in Sync History): it goes on from where it stopped.";
const CRASHED =
  "The part of PCO Sync that does the work stopped unexpectedly several times in a row (it ran out of " +
  `memory or time, or was stopped). ${RESUME_HINT} ${SUPPORT_HINT}`;

// Keyed by the names of pco_core's exception tree (errors.py), which a failed run's error starts with, and
// by httpx's names for a connection that failed before PCO answered.
const SENTENCES = Object.freeze({
  PcoAuthError: `Planning Center refused the App ID and Secret. ${CREDENTIALS_HINT}`,
  PcoUnavailable:
    "Planning Center did not answer, or answered with a server error, even after retrying. Resume the run " +
    "later (below its error in Sync History): it goes on from where it stopped.",
  RateLimited: "Planning Center kept asking PCO Sync to slow down. Start the run again in a few minutes.",
  PcoRequestError: `Planning Center refused a request PCO Sync made. ${SUPPORT_HINT}`,
  ConfigError:
    "A PCO Sync setting or secret is missing or malformed. The details name it: fix it in the stack's " +
    "parameters and deploy again.",
  LeaseLost: "Another run took over the sync, so this run stopped. Start it again once that run has ended.",
  StoreConflict: "Saving the records kept clashing with another change. Start the run again.",
  "States.Timeout": "A step of the run took too long and was stopped. Start the run again.",
  // How Lambda reports a page whose process died (killed, out of memory) or ran out of time.
  "Runtime.ExitError": CRASHED,
  "Sandbox.Timedout": CRASHED,
  "Lambda.Unknown": CRASHED,
  ConnectError: UNREACHABLE,
  ConnectTimeout: UNREACHABLE,
  ReadTimeout: UNREACHABLE,
});
const UNEXPECTED = `Something unexpected went wrong. Try again. ${SUPPORT_HINT}`;

// Texts the run service writes itself, without a class name in front.
const KNOWN_TEXTS = [
  { pattern: /^lease expired$/, sentence: "The run stopped answering and was ended. Start it again." },
  { pattern: /^skipped: run \S+ was active$/, sentence: "Skipped: another run was active." },
  {
    pattern: /^could not start the run: /,
    sentence: `The run could not be started. Try again. ${SUPPORT_HINT}`,
  },
];

// "PcoAuthError: …", "ConnectError: …", "States.Timeout": an identifier with a second capital or a dot.
// A plain message ("a run is already active", "Bad credentials: …") has a space or a single capital.
const CLASS_PREFIX = /^([A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)*)(?::\s*([\s\S]*))?$/;

function className(text) {
  const match = CLASS_PREFIX.exec(text);
  if (!match) return null;
  const name = match[1];
  return /[A-Z]/.test(name.slice(1)) || name.includes(".") ? name : null;
}

/**
 * A stored or answered error text as {sentence, details}: `details` is the original text when the sentence
 * replaced it, null when the text already was a sentence for people.
 */
export function explainError(text) {
  const raw = String(text ?? "").trim();
  if (!raw) return { sentence: "No error message was recorded.", details: null };
  const known = KNOWN_TEXTS.find((entry) => entry.pattern.test(raw));
  if (known) return { sentence: known.sentence, details: raw };
  const name = className(raw);
  if (name) return { sentence: SENTENCES[name] ?? UNEXPECTED, details: raw };
  return { sentence: raw, details: null };
}

// Keyed by ConnectionTest.error (pco_core/connection.py); the server's `reason` goes behind Details.
const CONNECTION_SENTENCES = Object.freeze({
  not_configured: `The App ID or Secret is not set. ${CREDENTIALS_HINT}`,
  bad_credentials: `Planning Center refused the App ID and Secret. ${CREDENTIALS_HINT}`,
  unreachable:
    "Planning Center could not be reached. Check the stack's PcoBaseUrl parameter, or try again later.",
  pco_error: `Planning Center answered with an error. Try again later. ${SUPPORT_HINT}`,
});

/** A failed POST /api/connection/test answer ({ok: false, error, reason, retry_after}) in words. */
export function explainConnectionTest(answer) {
  const reason = answer?.reason ? String(answer.reason) : null;
  if (answer?.error === "rate_limited") {
    const wait = Number(answer.retry_after);
    const when = Number.isFinite(wait) && wait > 0 ? `${Math.ceil(wait)} s` : "a moment";
    const sentence = `Planning Center asks to wait ${when} before the next request. Try again then.`;
    return { sentence, details: reason };
  }
  const sentence = CONNECTION_SENTENCES[answer?.error];
  if (sentence) return { sentence, details: reason };
  return reason ? explainError(reason) : { sentence: "No reason was given.", details: null };
}

/** An error caught from the API client (or anything thrown) as {sentence, details}. */
export function explainCaught(err) {
  if (err instanceof Error && err.message) return explainError(err.message);
  return { sentence: "Something went wrong. Please try again.", details: null };
}
