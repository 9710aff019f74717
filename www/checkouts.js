// @ts-check
// Split-payment checkouts as owners of their card part: the confirm writes everything in one transaction (the
// core's allocation against the current balance and credit, the balance entries, the credit reservation and terms
// invoice, the staged card charge); the card's outcome completes the checkout or, when it fails, gives back
// what the core's undo says. Inside a transaction unless said otherwise.
import { ApiError } from "./http.js";
import { N } from "./core.js";
import { TERMS } from "./invoicing.js";
import * as views from "./views.js";

export const OWNER = N.OwnerType.checkout;

export class Checkouts {
  /**
   * @param {{ db: import("./db.js").Db, core: typeof import("./core.js"), payments: import("./payments.js").Payments,
   *   credit: import("./credit.js").Credit, balances: import("./balances.js").Balances, terms: import("./terms.js").Terms,
   *   webhooks: import("./webhooks.js").Webhooks }} deps
   */
  constructor({ db, core, payments, credit, balances, terms, webhooks }) {
    Object.assign(this, { db, core, payments, credit, balances, terms, webhooks });
    payments.register(OWNER, { onEffect: (tx, effect, now) => this.#follow(tx.owner_guid, effect, now) });
  }

  row(guid) {
    return this.db.one("SELECT * FROM checkouts WHERE guid = ?", guid);
  }

  /** The buyer's terms in the checkout's currency: available credit and the terms lengths allowed. */
  creditFor(checkout, now) {
    const p = this.credit.profile(checkout.customer_guid, now, checkout.currency);
    const usable = p.status !== N.CreditStatus.none && p.currency === checkout.currency;
    return { available: usable ? p.available_credit : 0, allowed: usable ? p.terms_days_allowed : [], profile: p };
  }

  /** The allocation the checkout would get now (for `total`, default its own). */
  allocation(checkout, now, total = checkout.total) {
    const { available } = this.creditFor(checkout, now);
    return this.core.allocateCheckout(total, this.balances.amount(checkout.customer_guid, checkout.currency),
      available, checkout.currency);
  }

  /** Confirms a checkout (see the file comment). Returns the card charge's guid to submit, or null. */
  confirm(guid, body, metadata, now) {
    const checkout = this.row(guid);
    this.core.checkCanConfirm(checkout.status, checkout.expires_at, now);
    const { allowed } = this.creditFor(checkout, now);
    const cart = this.core.requantifyCart(JSON.parse(checkout.items), body, Boolean(checkout.adjustable_quantities),
      checkout.total);
    const allocation = this.allocation(checkout, now, cart.total);
    // The buyer confirms the split it was shown; if credit or balance moved meanwhile, it is asked again (409).
    this.core.checkExpectedAllocation(body, allocation);
    const c = this.core.validateConfirm(body, allocation, checkout.terms_days, allowed, now);
    // balance_applied is negative when the checkout collects what the customer owed.
    const entry = (amount, type) => amount !== 0 && this.balances.entry({ customer_guid: checkout.customer_guid,
      currency: checkout.currency, amount, transaction_type: type, checkout_guid: guid }, now);
    entry(allocation.balance_applied, N.BalanceTransactionType.applied_to_checkout);
    entry(allocation.carried_to_balance, N.BalanceTransactionType.checkout_below_currency_minimum);
    const invoice = allocation.terms_amount > 0
      ? this.terms.open({ ...checkout, items: JSON.stringify(cart.items) }, allocation, c, metadata, now) : null;
    const card = allocation.card_amount > 0 ? this.payments.stage({ owner_type: OWNER, owner_guid: guid,
      transaction_type: N.TransactionKind.debit, amount: allocation.card_amount, currency: checkout.currency,
      customer_guid: checkout.customer_guid, funding_instrument_uri: c.funding_instrument_uri,
      description: `checkout ${guid}` }, now) : null;
    this.db.update("checkouts", guid, { status: card ? N.CheckoutStatus.processing : N.CheckoutStatus.completed,
      items: JSON.stringify(cart.items), total: cart.total,
      allocation: JSON.stringify(allocation), invoice_guid: invoice, transaction_guid: card,
      terms_days: c.terms_days ?? checkout.terms_days, updated_at: now });
    this.#announce(guid, now);
    return card;
  }

  #announce(guid, now) {
    this.webhooks.emit(N.WebhookEventType["checkout.updated"], () => {
      const row = this.row(guid);
      return views.checkout(row, row.status, row.allocation ? JSON.parse(row.allocation) : null);
    }, now);
  }

  /** The card part's outcome: the core says what the checkout becomes; a failure gives everything back. */
  #follow(guid, effect, now) {
    const checkout = this.row(guid);
    if (!checkout) return;
    const next = this.core.checkoutAfterPayment(checkout.status, effect);
    if (next === checkout.status) return;
    this.db.update("checkouts", guid, { status: next, updated_at: now });
    this.#announce(guid, now);
    if (next !== N.CheckoutStatus.failed) return;
    // Its card charge may have failed on an attempt without an answer: should reconciliation find the money taken,
    // it is repaid (the checkout is undone below).
    this.payments.releaseUnasked(OWNER, guid, now);
    // The card part can fail after days of retries, when the terms invoice may be paid in part or in full already:
    // its payments go back to the buyer and only the credit it still holds is released. A charge of it still in
    // flight finds the invoice canceled and goes back to the buyer when it succeeds (www/terms.js `paid`).
    const invoice = checkout.invoice_guid ? this.db.one("SELECT amount_paid FROM invoices WHERE guid = ?", checkout.invoice_guid) : null;
    const undo = this.core.checkoutUndo(JSON.parse(checkout.allocation), invoice?.amount_paid ?? 0);
    if (undo.balance_credit !== 0) {
      this.balances.entry({ customer_guid: checkout.customer_guid, currency: checkout.currency,
        amount: undo.balance_credit, transaction_type: N.BalanceTransactionType.checkout_credit, checkout_guid: guid }, now);
    }
    if (checkout.invoice_guid) {
      this.db.update("invoices", checkout.invoice_guid, { status: N.TermsInvoiceStatus.canceled, updated_at: now });
      this.credit.use(checkout.customer_guid, -undo.release_credit, now);
    }
  }
}

/** Guards the Billy invoice actions that do not apply to terms invoices. */
export function refuseTerms(inv) {
  if (inv.invoice_type === TERMS) {
    throw new ApiError(409, "invalid_state",
      "This is a terms invoice: record what the buyer paid with POST /v1/invoices/<guid>/payments");
  }
}
