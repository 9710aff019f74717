// @ts-check
// The company's scheduler: invoices due subscription periods, retries failed submissions, polls pending ones,
// resubmits transactions left staged by a crash (same idempotency key, so never a second charge), then arms
// the Durable Object alarm for the earliest future due time. The cron trigger calls run() as a safety net.
//
// Test clock: a company in test mode may have a frozen clock. advanceTo() walks it forward event by event
// (each due time becomes "now" in turn), so catch-up invoices and retries happen at the times they would have.

const MAX_STEPS = 10_000;
const WATCHDOG_MS = 60_000;

export class Scheduler {
  /** @param {import("./company.js").Company} co */
  constructor(co) {
    this.co = co;
    this.db = co.db;
    this.running = null;
  }

  /** One scheduler pass at the company's current time. Concurrent calls share one pass. */
  run() {
    if (!this.running) this.running = this.#run().finally(() => { this.running = null; });
    return this.running;
  }

  async #run() {
    const billing = this.co.billing;
    const now = this.co.now();
    // 1. Subscription periods that are due: one transaction per subscription batch.
    for (;;) {
      const subs = this.db.all(`SELECT * FROM subscriptions WHERE canceled = 0 AND next_invoice_at <= ?
        ORDER BY next_invoice_at, seq LIMIT 50`, now);
      if (subs.length === 0) break;
      for (const sub of subs) {
        this.db.tx(() => {
          const fresh = this.db.one("SELECT * FROM subscriptions WHERE guid = ?", sub.guid);
          if (!fresh || fresh.canceled || fresh.next_invoice_at > now) return;
          const plan = this.db.one("SELECT * FROM plans WHERE guid = ?", fresh.plan_guid);
          billing.invoiceDuePeriods(fresh, plan, now);
        });
      }
    }
    // 2. Staged (new, or left by a crash) and due retries.
    const submit = this.db.all(`SELECT guid FROM transactions WHERE submit_status = 'staged'
      OR (submit_status = 'retrying' AND next_attempt_at <= ?) ORDER BY seq`, now);
    for (const { guid } of submit) await billing.submit(guid);
    // 3. Pending transactions whose poll time has come.
    const pending = this.db.all(`SELECT guid FROM transactions WHERE submit_status = 'done' AND status = 'pending'
      AND next_attempt_at <= ? ORDER BY seq`, now);
    for (const { guid } of pending) await billing.poll(guid);
    await this.arm();
  }

  /** The earliest future time anything is due, or null. */
  nextDue() {
    const row = this.db.one(`SELECT min(t) AS t FROM (
      SELECT min(next_invoice_at) AS t FROM subscriptions WHERE canceled = 0
      UNION ALL SELECT min(updated_at) FROM transactions WHERE submit_status = 'staged'
      UNION ALL SELECT min(next_attempt_at) FROM transactions WHERE submit_status = 'retrying'
      UNION ALL SELECT min(next_attempt_at) FROM transactions WHERE submit_status = 'done' AND status = 'pending')`);
    return row ? row.t : null;
  }

  /** Real-time companies get an alarm at the next due time; test-clock companies are driven by advanceTo(). */
  async arm() {
    const company = this.co.company();
    if (!company || company.clock) return;
    const next = this.nextDue();
    if (next) await this.co.ctx.storage.setAlarm(this.co.core.timeMillis(next));
    else await this.co.ctx.storage.deleteAlarm();
  }

  /**
   * Crash safety: before a processor call, make sure the alarm fires soon after, so a transaction left staged by a
   * dying host is resubmitted (same idempotency key) even if no request ever comes again.
   */
  async watchdog() {
    const company = this.co.company();
    if (!company || company.clock) return;
    const storage = this.co.ctx.storage;
    const soon = Date.now() + WATCHDOG_MS;
    const current = await storage.getAlarm();
    if (current === null || current > soon) await storage.setAlarm(soon);
  }

  /** Moves the frozen test clock to `target`, stopping at every due time on the way. */
  async advanceTo(target) {
    for (let step = 0; step < MAX_STEPS; step++) {
      const next = this.nextDue();
      const stop = next && next <= target ? next : target;
      const current = this.co.now();
      if (stop > current) this.db.run("UPDATE company SET clock = ?, updated_at = ?", stop, stop);
      await this.run();
      if (stop === target && !(this.nextDue() && this.nextDue() <= target)) return;
    }
  }
}
