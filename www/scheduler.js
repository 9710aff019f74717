// @ts-check
// The company's scheduler. Due work is a list of sources (www/due.js), each a table of items with a due time;
// a pass runs every item that is due, each on its own, and arms the Durable Object alarm for the earliest next one.
// An item that throws is recorded in work_failures with its error and skipped until its retry time, so one bad row
// never blocks the rest. The cron trigger calls run() as a safety net.
//
// Test clock: a company in test mode may have a frozen clock. advanceTo() walks it forward event by event (each
// due time becomes "now" in turn), so catch-up invoices and retries happen at the times they would have.

/** Real-time companies: the alarm is set this soon before each processor call (crash recovery). */
const WATCHDOG_MS = 60_000;
/** Items fetched per query. */
const BATCH = 100;
/** An item due again after this many runs in one pass is making no progress: recorded as a failure. */
const MAX_RUNS_PER_PASS = 1_000;
/** A failed item is retried after 1 min, doubling up to a day. */
const FAILURE_RETRY_MS = (count) => Math.min(60_000 * 2 ** (count - 1), 86_400_000);

/**
 * @typedef {{ name: string, table: string, index?: string, due: string, where: string, args?: any[],
 *   run: (key: string, now: string) => Promise<void> | void,
 *   runBatch?: (keys: string[], now: string) => Promise<void> | void, batch?: number, parallel?: boolean }} Source
 *   `due` is the column holding the item's due time; `where` selects the items that are due work at all; `index`
 *   names the index that serves `where` in due order (SQLite's INDEXED BY: an error, never a quiet sort, if not).
 *   `runBatch` runs many items in one go (falling back to `run` item by item if it throws); `parallel` items run
 *   concurrently, at most the company's processor concurrency at once.
 */

export class Scheduler {
  /**
   * @param {{ db: import("./db.js").Db, core: typeof import("./core.js"), now: () => string,
   *   testClock: () => boolean, storage: DurableObjectStorage, sources: () => Source[], concurrency: () => number }} deps
   */
  constructor({ db, core, now, testClock, storage, sources, concurrency }) {
    this.concurrency = concurrency;
    this.db = db;
    this.core = core;
    this.now = now;
    this.testClock = testClock;
    this.storage = storage;
    this.sources = sources;
    this.running = null;
  }

  /** One pass at the company's current time. Concurrent calls share one pass. */
  run() {
    if (!this.running) this.running = this.#run().finally(() => { this.running = null; });
    return this.running;
  }

  async #run() {
    const now = this.now();
    for (const source of this.sources()) {
      const runs = new Map();
      // A parallel source takes whole waves of its concurrency per query: a batch of 100 run 64 at a time would end
      // each query with a wave of 36 (at 250 ms a call, two calls' time for 100 items instead of 1.6).
      const n = Math.max(1, this.concurrency() || 1);
      const limit = source.parallel ? n * Math.ceil((source.batch || BATCH) / n) : source.batch || BATCH;
      for (;;) {
        const all = this.db.all(`SELECT guid AS k FROM ${from(source)} WHERE ${source.where} AND ${source.due} <= ?
          AND guid NOT IN (SELECT item FROM work_failures WHERE source = ? AND retry_at > ?)
          ORDER BY ${source.due}, seq LIMIT ?`, ...(source.args || []), now, source.name, now, limit)
          .map((r) => r.k);
        if (all.length === 0) break;
        const keys = [];
        for (const key of all) {
          const n = (runs.get(key) || 0) + 1;
          runs.set(key, n);
          if (n > MAX_RUNS_PER_PASS) this.#fail(source.name, key, new Error(`still due after ${MAX_RUNS_PER_PASS} runs in one pass`), now);
          else keys.push(key);
        }
        const failing = this.db.one("SELECT 1 AS x FROM work_failures WHERE source = ? LIMIT 1", source.name) !== null;
        const one = async (key) => {
          try {
            await source.run(key, now);
            if (failing) this.db.run("DELETE FROM work_failures WHERE source = ? AND item = ?", source.name, key);
          } catch (err) {
            this.#fail(source.name, key, err, now);
          }
        };
        if (source.runBatch) {
          try {
            await source.runBatch(keys, now);
            if (failing) for (const key of keys) this.db.run("DELETE FROM work_failures WHERE source = ? AND item = ?", source.name, key);
          } catch (err) {
            // One bad row must not block the rest: the batch is run again item by item. That is the slow path, so
            // it is counted and shown (a batch that always falls back is a bug, not a bad row).
            this.fallbacks = { count: (this.fallbacks?.count || 0) + 1, source: source.name,
              error: String(err?.code ? `${err.code}: ${err.message}` : err?.message || err).slice(0, 500), at: now };
            console.error(`scheduler: ${source.name} batch of ${keys.length} fell back to one by one:`, this.fallbacks.error);
            for (const key of keys) await one(key);
          }
        } else if (source.parallel) {
          await pool(keys, n, one);
        } else {
          for (const key of keys) await one(key);
        }
      }
    }
    // A failure whose retry time has come was either run again (and re-recorded or cleared) or is no longer due.
    this.db.run("DELETE FROM work_failures WHERE retry_at <= ?", now);
    await this.arm();
  }

  #fail(source, item, err, now) {
    const error = String(err?.code ? `${err.code}: ${err.message}` : err?.stack || err).slice(0, 2000);
    console.error(`scheduler: ${source} ${item}:`, error);
    const prior = this.db.one("SELECT count, first_failed_at FROM work_failures WHERE source = ? AND item = ?", source, item);
    const count = (prior?.count || 0) + 1;
    const retryAt = this.core.formatTime(this.core.timeMillis(now) + FAILURE_RETRY_MS(count));
    this.db.run(`INSERT INTO work_failures (source, item, error, count, first_failed_at, last_failed_at, retry_at)
      VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, item) DO UPDATE SET error = excluded.error,
      count = excluded.count, last_failed_at = excluded.last_failed_at, retry_at = excluded.retry_at`,
      source, item, error, count, prior?.first_failed_at || now, now, retryAt);
  }

  /** The earliest time anything is due (a failed item at its retry time), or null. */
  nextDue() {
    const now = this.now();
    let next = null;
    for (const source of this.sources()) {
      const row = this.db.one(`SELECT min(${source.due}) AS t FROM ${from(source)} WHERE ${source.where}
        AND ${source.due} IS NOT NULL AND guid NOT IN (SELECT item FROM work_failures WHERE source = ? AND retry_at > ?)`,
        ...(source.args || []), source.name, now);
      if (row?.t && (next === null || row.t < next)) next = row.t;
    }
    const failed = this.db.one("SELECT min(retry_at) AS t FROM work_failures WHERE retry_at > ?", now)?.t;
    if (failed && (next === null || failed < next)) next = failed;
    return next;
  }

  /**
   * What the scheduler knows: the next due time, the items that failed, and (since the object started) how often a
   * batch fell back to running its items one by one, with the last reason.
   */
  report() {
    return { next_due: this.nextDue(), last_sweep_at: this.sweptAt ?? null, batch_fallbacks: this.fallbacks ?? null, failures: this.db.all(`SELECT source, item, error, count, first_failed_at,
      last_failed_at, retry_at FROM work_failures ORDER BY last_failed_at DESC, source, item`) };
  }

  /**
   * Hands a test clock's advance (`company.advance_to`) to the alarm: it runs there, not in the request that asked
   * for it (whose response is already sent), and resumes by itself should the object be evicted.
   */
  async advanceInBackground() {
    await this.storage.setAlarm(Date.now());
  }

  /**
   * Advances a test clock's background target by one slice (about 250 ms of work), then hands back: the next slice is
   * the next alarm, so requests waiting for the company are answered between slices. Run by the alarm.
   */
  async continueAdvance() {
    const target = this.db.one("SELECT advance_to FROM company")?.advance_to;
    if (!target) return;
    const r = await this.advanceTo(target, Number.MAX_SAFE_INTEGER, Date.now() + 250);
    if (r.reached) this.db.run("UPDATE company SET advance_to = NULL WHERE advance_to = ?", target);
    else await this.storage.setAlarm(Date.now());
  }

  /** Real-time companies get an alarm at the next due time; test-clock companies are driven by advanceTo(). */
  async arm() {
    if (this.testClock()) return;
    const next = this.nextDue();
    if (next) await this.storage.setAlarm(this.core.timeMillis(next));
    else await this.storage.deleteAlarm();
  }

  /**
   * Crash safety: before a processor call, make sure the alarm fires soon after, so a transaction left staged by a
   * dying host is resubmitted (same idempotency key) even if no request ever comes again.
   */
  async watchdog() {
    if (this.testClock()) return;
    const soon = Date.now() + WATCHDOG_MS;
    const current = await this.storage.getAlarm();
    if (current === null || current > soon) await this.storage.setAlarm(soon);
  }

  /**
   * Moves the frozen test clock to `target`, stopping at every due time on the way, at most `maxSteps` of them and,
   * given a `deadline` (epoch ms), no longer than that.
   * @returns {{ target: string, reached: boolean, steps: number }} reached false: stopped early, at the clock shown
   */
  async advanceTo(target, maxSteps, deadline = Infinity) {
    for (let step = 1; step <= maxSteps; step++) {
      if (step > 1 && Date.now() >= deadline) return { target, reached: false, steps: step - 1 };
      const next = this.nextDue();
      const stop = next && next <= target ? next : target;
      if (stop > this.now()) this.db.run("UPDATE company SET clock = ?, updated_at = ?", stop, stop);
      await this.run();
      const after = this.nextDue();
      if (stop === target && !(after && after <= target)) return { target, reached: true, steps: step };
    }
    return { target, reached: false, steps: maxSteps };
  }
}

/** A source's table, with the index that serves it when it names one. @param {Source} source */
function from(source) {
  return source.index ? `${source.table} INDEXED BY ${source.index}` : source.table;
}

/** Runs `fn` over `items` with at most `n` running at once. */
async function pool(items, n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
