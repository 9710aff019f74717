// @ts-check
// Migration 4, after its SQL: the company's single key hash becomes its first secret key row, and the company
// table is rebuilt without that column and without a default for max_retry_attempts.
import { N } from "../core.js";

/** @param {import("../db.js").Db} db @param {typeof import("../core.js")} core */
export default function migrate(db, core) {
  const company = db.one("SELECT * FROM company");
  if (company) {
    db.insert("keys", { guid: core.guid("KY"), kind: N.KeyKind.secret, scopes: "[]", key_hash: company.key_hash,
      hint: "…", created_at: company.created_at, expires_at: null, revoked_at: null });
  }
  db.run(`CREATE TABLE company_new (
    guid               TEXT PRIMARY KEY,
    processor_key      TEXT,
    test_mode          INTEGER NOT NULL,
    clock              TEXT,
    max_retry_attempts INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL)`);
  db.run(`INSERT INTO company_new SELECT guid, processor_key, test_mode, clock, max_retry_attempts, created_at,
    updated_at FROM company`);
  db.run("DROP TABLE company");
  db.run("ALTER TABLE company_new RENAME TO company");
}
