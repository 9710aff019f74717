// @ts-check
// Migration 8, after its SQL: existing companies get the core's default processor concurrency.
import { DEFAULTS } from "../core.js";

/** @param {import("../db.js").Db} db */
export default function migrate(db) {
  db.run("UPDATE company SET processor_concurrency = ? WHERE processor_concurrency IS NULL", DEFAULTS.processor_concurrency);
}
