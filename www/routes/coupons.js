// @ts-check
// /v1/coupons: create, retrieve (by code), list, delete. A coupon is applied with `coupon=<code>` on a subscription
// (create or update) or an invoice (create); the core turns it into each covered invoice's adjustment. Redemptions
// are counted inside the applying request's storage transaction, so max_redemptions holds under any concurrency.
import { ApiError, json, notFound } from "../http.js";
import * as views from "../views.js";
import { CURRENCY } from "../invoicing.js";
import { listPage } from "./list.js";

/** The coupon row of a code in this company (404 when unknown). */
export function findCoupon(r, code) {
  const row = r.db.one("SELECT * FROM coupons WHERE guid = ?", code);
  if (!row) throw notFound("coupon", code);
  return row;
}

/** A stored coupon as the core reads it (the code is the row's guid). */
export const couponRow = (row) => row && { ...row, code: row.guid };

/**
 * Counts one redemption of `code` (inside the caller's transaction) and returns its row: 404 naming `coupon` when
 * unknown; 409 when deleted, expired, used up or in another currency (the core decides).
 */
export function redeem(r, code, now) {
  const row = r.db.one("SELECT * FROM coupons WHERE guid = ?", code);
  if (!row) throw new ApiError(404, "not_found", `No such coupon: ${code}`, "coupon");
  const times = r.core.redeemCoupon(couponRow(row), now, CURRENCY);
  r.db.update("coupons", code, { times_redeemed: times, updated_at: now });
  return couponRow({ ...row, times_redeemed: times });
}

export const routes = [
  ["POST", "/v1/coupons", (r) => {
    const now = r.now();
    const c = r.core.validateCoupon(r.body, now);
    r.db.tx(() => {
      if (r.db.one("SELECT 1 AS x FROM coupons WHERE guid = ?", c.code)) {
        throw new ApiError(409, "duplicate_coupon", `A coupon with code ${c.code} already exists`, "code");
      }
      r.db.insert("coupons", { guid: c.code, name: c.name, percent_off: c.percent_off, amount_off: c.amount_off,
        currency: c.currency, duration: c.duration, duration_in_periods: c.duration_in_periods,
        max_redemptions: c.max_redemptions, times_redeemed: 0, redeem_by: c.redeem_by, deleted: 0, created_at: now,
        updated_at: now });
    });
    return json(views.coupon(findCoupon(r, c.code)));
  }],
  ["GET", "/v1/coupons", (r) => listPage(r, { table: "coupons", view: views.coupon })],
  ["GET", "/v1/coupons/:guid", (r) => json(views.coupon(findCoupon(r, r.params[0])))],
  // Deleted: never newly applied; subscriptions and invoices that have it keep their discounts.
  ["DELETE", "/v1/coupons/:guid", (r) => {
    const code = r.params[0];
    const now = r.now();
    r.db.tx(() => {
      const row = findCoupon(r, code);
      if (row.deleted) throw new ApiError(409, "already_deleted", `Coupon ${code} is already deleted`);
      r.db.update("coupons", code, { deleted: 1, updated_at: now });
    });
    return json(views.coupon(findCoupon(r, code)));
  }],
];
