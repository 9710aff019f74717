// @ts-check
// Thin helpers over a Durable Object's SQLite (ctx.storage.sql) and the numbered schema migrations.
import * as core from "./core.js";
import m0001 from "./migrations/0001_init.sql";
import m0002 from "./migrations/0002_idempotency.sql";
import m0003 from "./migrations/0003_payments.sql";
import m0004 from "./migrations/0004_keys.sql";
import m0004js from "./migrations/0004_keys.js";
import m0005 from "./migrations/0005_orders.sql";
import m0006 from "./migrations/0006_net_terms.sql";
import m0007 from "./migrations/0007_checkout_pages.sql";
import m0008 from "./migrations/0008_scale.sql";
import m0008js from "./migrations/0008_scale.js";
import m0009 from "./migrations/0009_webhooks_clock.sql";
import m0010 from "./migrations/0010_idempotency_recovery.sql";
import m0011 from "./migrations/0011_processors.sql";
import m0012 from "./migrations/0012_subscriptions.sql";
import m0013 from "./migrations/0013_usage.sql";
import m0014 from "./migrations/0014_hosted_invoices.sql";
import m0014js from "./migrations/0014_hosted_invoices.js";
import m0015 from "./migrations/0015_simulator.sql";
import m0016 from "./migrations/0016_due_indexes.sql";
import m0017 from "./migrations/0017_invoice_credits.sql";

/**
 * Numbered migrations, applied in order, each exactly once, each in its own transaction: SQL text, then an
 * optional JS step for what SQL alone cannot do (guids from the core).
 * @type {[number, string, ((db: Db, c: typeof core) => void)?][]}
 */
/** A statement that writes the company table (its cached row is then read again). */
const WRITES_COMPANY = /^\s*(UPDATE|INSERT\s+(OR\s+\w+\s+)?INTO|REPLACE\s+INTO|DELETE\s+FROM)\s+company\b/i;

const MIGRATIONS = [[1, m0001], [2, m0002], [3, m0003], [4, m0004, m0004js], [5, m0005], [6, m0006], [7, m0007], [8, m0008, m0008js], [9, m0009], [10, m0010], [11, m0011], [12, m0012], [13, m0013], [14, m0014, m0014js], [15, m0015], [16, m0016], [17, m0017]];

export class Db {
  /** @param {DurableObjectStorage} storage */
  constructor(storage) {
    this.storage = storage;
    this.sql = storage.sql;
  }

  /** True once migrate() has run in this database. */
  hasSchema() {
    return this.one("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = '_migrations'") !== null;
  }

  migrate() {
    this.sql.exec("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    const done = new Set(this.all("SELECT version FROM _migrations").map((r) => r.version));
    for (const [version, text, step] of MIGRATIONS) {
      if (done.has(version)) continue;
      this.tx(() => {
        this.sql.exec(text);
        if (step) step(this, core);
        this.sql.exec("INSERT INTO _migrations (version, applied_at) VALUES (?, ?)", version,
          core.formatTime(Date.now()));
      });
    }
    this.#company = undefined;
  }

  /** All rows as plain objects. */
  all(query, ...args) {
    return this.sql.exec(query, ...args).toArray();
  }

  /** The first row, or null. */
  one(query, ...args) {
    const rows = this.sql.exec(query, ...args).toArray();
    return rows.length ? rows[0] : null;
  }

  /**
   * `query(marks, chunk)` over `values` in chunks of at most `size` (a Durable Object's SQLite binds at most 100
   * parameters per statement: leave room for the query's other ones), the rows of every chunk together.
   */
  allIn(values, query, size = 100) {
    const out = [];
    for (let i = 0; i < values.length; i += size) {
      const chunk = values.slice(i, i + size);
      out.push(...query(chunk.map(() => "?").join(", "), chunk));
    }
    return out;
  }

  run(query, ...args) {
    if (WRITES_COMPANY.test(query)) this.#company = undefined;
    return this.sql.exec(query, ...args).rowsWritten;
  }

  /**
   * The company row (null before creation), read once and kept until a statement of this Db writes the table (or
   * a transaction that may have rolled such a write back ends in an error): the scheduler and the payment path
   * ask for it several times per item. Frozen, so no caller can change the shared copy.
   */
  companyRow() {
    if (this.#company === undefined) {
      const row = this.one("SELECT * FROM company");
      this.#company = row ? Object.freeze(row) : null;
    }
    return this.#company;
  }

  /** @type {any} */
  #company = undefined;

  /**
   * Runs fn in one SQLite transaction: everything it wrote commits together, or nothing does if it throws.
   * fn must be synchronous: no await may split a read from the write that depends on it.
   * @template T @param {() => T} fn @returns {T}
   */
  tx(fn) {
    // Each outermost transaction gets a number of its own (events about one object coalesce within it).
    if (this.#depth++ === 0) this.txNumber++;
    try {
      return this.storage.transactionSync(fn);
    } catch (err) {
      this.#company = undefined;
      throw err;
    } finally {
      this.#depth--;
    }
  }

  #depth = 0;
  /** The number of the outermost transaction running now (or the last one). */
  txNumber = 0;
  /** Whether a transaction is running. */
  get inTx() {
    return this.#depth > 0;
  }

  /** INSERT from an object's keys. */
  insert(table, row) {
    if (table === "company") this.#company = undefined;
    const keys = Object.keys(row);
    this.sql.exec(`INSERT INTO ${table} (${keys.join(", ")}) VALUES (${keys.map(() => "?").join(", ")})`,
      ...keys.map((k) => row[k]));
  }

  /** INSERT that skips a row a unique index already holds; returns whether it was written. */
  insertOrIgnore(table, row) {
    const keys = Object.keys(row);
    return this.sql.exec(`INSERT INTO ${table} (${keys.join(", ")}) VALUES (${keys.map(() => "?").join(", ")})
      ON CONFLICT DO NOTHING`, ...keys.map((k) => row[k])).rowsWritten > 0;
  }

  /** UPDATE table SET … WHERE guid = ? from an object's keys. */
  update(table, guid, changes) {
    if (table === "company") this.#company = undefined;
    const keys = Object.keys(changes);
    this.sql.exec(`UPDATE ${table} SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE guid = ?`,
      ...keys.map((k) => changes[k]), guid);
  }
}
