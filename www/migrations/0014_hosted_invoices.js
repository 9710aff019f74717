// @ts-check
// Migration 14, after its SQL: a company made before hosted invoice pages gets its hosted-invoice secret (made by the
// core's randomness, as guids and keys are). A new company is given one at creation (Company.create).

/** @param {import("../db.js").Db} db @param {typeof import("../core.js")} core */
export default function migrate(db, core) {
  if (db.one("SELECT guid FROM company WHERE hosted_invoice_secret IS NULL")) {
    db.run("UPDATE company SET hosted_invoice_secret = ? WHERE hosted_invoice_secret IS NULL", core.hostedInvoiceSecret());
  }
}
