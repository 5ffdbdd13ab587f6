// The scheduled Full Sync in the "Run a sync" card: on or off, and when it next starts (GET /api/schedule).

import { formatLocalTime } from "./format.js";

/** The schedule as a sentence: when it starts next (in the admin's time), or that it is off. */
export function scheduleText(schedule) {
  if (!schedule) return "";
  const rule = `${schedule.expression}, ${schedule.timezone}`;
  if (!schedule.enabled) return `The scheduled Full Sync is off (${rule}).`;
  if (!schedule.next_run_at) return `The scheduled Full Sync runs on ${rule}; its next start is not known here.`;
  return `Next scheduled Full Sync: ${formatLocalTime(schedule.next_run_at)} (${rule}).`;
}

export class ScheduleNote {
  /** @param {{api: import("./api.js").ApiClient}} deps */
  constructor({ api }, doc = document) {
    this.api = api;
    this.el = doc.getElementById("schedule-note");
  }

  /** GET /api/schedule and show it; throws what the API client threw. */
  async load() {
    const schedule = await this.api.schedule();
    this.el.textContent = scheduleText(schedule);
    this.el.hidden = !this.el.textContent;
  }
}
