// The deployment's schedules in the "Run a sync" card: each on or off, and when it next starts
// (GET /api/schedule).

import { formatLocalTime } from "./format.js";

const RUN_NAMES = Object.freeze({ incremental_sync: "Incremental Sync", full_sync: "Full Sync" });

/** One schedule as a sentence: when its run starts next (in the admin's time), or that it is off. */
export function scheduleText(schedule) {
  if (!schedule) return "";
  const run = RUN_NAMES[schedule.run_type] ?? "sync";
  const rule = `${schedule.expression}, ${schedule.timezone}`;
  if (!schedule.enabled) return `The scheduled ${run} is off (${rule}).`;
  if (!schedule.next_run_at) return `The scheduled ${run} runs on ${rule}; its next start is not known here.`;
  return `Next scheduled ${run}: ${formatLocalTime(schedule.next_run_at)} (${rule}).`;
}

export class ScheduleNote {
  /** @param {{api: import("./api.js").ApiClient}} deps */
  constructor({ api }, doc = document) {
    this.api = api;
    this.el = doc.getElementById("schedule-note");
    this.doc = doc;
  }

  /** GET /api/schedule and show one line per schedule; throws what the API client threw. */
  async load() {
    const answer = await this.api.schedule();
    const lines = (answer?.schedules ?? []).map(scheduleText).filter(Boolean);
    this.el.replaceChildren(
      ...lines.map((text) => {
        const line = this.doc.createElement("span");
        line.className = "schedule-note__line";
        line.textContent = text;
        return line;
      }),
    );
    this.el.hidden = lines.length === 0;
  }
}
