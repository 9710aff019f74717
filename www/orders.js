// @ts-check
// Escrow orders as owners of transactions: each change of one of an order's transactions moves its stored
// balances by the core's delta, in the same transaction (www/payments.js calls onChange inside it). The core refuses
// a result that breaks the escrow rule, so such a change can never commit.
import { N } from "./core.js";
import * as views from "./views.js";

export const OWNER = N.OwnerType.order;

export class Orders {
  /**
   * @param {{ db: import("./db.js").Db, core: typeof import("./core.js"),
   *   payments: import("./payments.js").Payments, webhooks: import("./webhooks.js").Webhooks }} deps
   */
  constructor({ db, core, payments, webhooks }) {
    this.webhooks = webhooks;
    this.db = db;
    this.core = core;
    this.payments = payments;
    payments.register(OWNER, { onChange: (before, after, now) => this.#move(after.owner_guid, before, after, now) });
  }

  /** The order's stored balances. */
  balances(order) {
    return { amount: order.amount, amount_escrowed: order.amount_escrowed, amount_credited: order.amount_credited };
  }

  #move(orderGuid, before, after, now) {
    const order = this.db.one("SELECT * FROM orders WHERE guid = ?", orderGuid);
    const stored = this.balances(order);
    const next = this.core.escrowAfterChange(stored, before, after);
    // A change of a transaction that moves no money of the order (a debit staged, a credit answered as it was
    // counted) is no change of the order: no event.
    if (next.amount === stored.amount && next.amount_escrowed === stored.amount_escrowed
      && next.amount_credited === stored.amount_credited) return;
    this.db.update("orders", orderGuid, { ...next, updated_at: now });
    this.webhooks.emit(N.WebhookEventType["order.updated"], () => views.order({ ...order, ...next, updated_at: now }), now,
      orderGuid);
  }
}
