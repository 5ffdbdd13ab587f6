// A polling loop that never overlaps itself and pauses while the tab is hidden.
// Each tick is scheduled only after the previous one settled (setTimeout chain, not setInterval).

export class Poller {
  /**
   * @param {() => Promise<boolean>} tick one poll; resolve false to stop polling.
   * @param {number} intervalMs delay between the end of one tick and the start of the next.
   * @param {Document} doc the document whose visibility pauses the loop.
   */
  constructor(tick, intervalMs, doc = document) {
    this.tick = tick;
    this.intervalMs = intervalMs;
    this.doc = doc;
    this.timer = null;
    this.inFlight = false;
    this.running = false;
    this.onVisibility = () => this.handleVisibility();
  }

  /** Start polling: the first tick comes after one interval. Calling it again while running is a no-op. */
  start() {
    if (this.running) return;
    this.running = true;
    this.doc.addEventListener("visibilitychange", this.onVisibility);
    this.schedule();
  }

  stop() {
    this.running = false;
    this.doc.removeEventListener("visibilitychange", this.onVisibility);
    this.clearTimer();
  }

  clearTimer() {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  schedule() {
    this.clearTimer();
    if (!this.running || this.doc.hidden) return;
    this.timer = setTimeout(() => this.runOnce(), this.intervalMs);
  }

  handleVisibility() {
    if (!this.running) return;
    if (this.doc.hidden) {
      this.clearTimer();
    } else if (!this.inFlight) {
      // Back in view: catch up at once rather than waiting a whole interval.
      this.clearTimer();
      this.runOnce();
    }
  }

  async runOnce() {
    this.timer = null;
    if (!this.running || this.inFlight) return;
    this.inFlight = true;
    let keepGoing = true;
    try {
      keepGoing = await this.tick();
    } catch {
      keepGoing = true; // a failed poll is retried at the next interval; the tick reports its own error
    } finally {
      this.inFlight = false;
    }
    if (keepGoing === false) {
      this.stop();
    } else {
      this.schedule();
    }
  }
}
