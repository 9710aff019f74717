// @ts-check
// Terms invoices: opened by a confirmed checkout for its terms part, paid by payments the merchant records or by
// a charge at their due date, overdue when unpaid then. Each payment releases its amount of the buyer's credit;
// the payment that settles one records a growth event on time or late. Inside a transaction unless said otherwise.
import { N } from "./core.js";
import { OWNER as INVOICE, TERMS } from "./invoicing.js";

export class Terms {
  /**
   * @param {{ db: import("./db.js").Db, core: typeof import("./core.js"), payments: import("./payments.js").Payments,
   *   credit: import("./credit.js").Credit, balances: import("./balances.js").Balances,
   *   webhooks: import("./webhooks.js").Webhooks,
   *   invoiceView: (row: any) => any }} deps `invoiceView`: www/invoicing.js `invoiceView` (every view of an invoice)
   */
  constructor({ db, core, payments, credit, balances, webhooks, invoiceView }) {
    this.balances = balances;
    this.webhooks = webhooks;
    this.invoiceView = invoiceView;
    this.db = db;
    this.core = core;
    this.payments = payments;
    this.credit = credit;
  }

  /** Opens the terms invoice of a confirmed checkout; returns its guid. */
  open(checkout, allocation, confirmation, metadata, now) {
    const guid = this.core.guid("IV");
    this.db.insert("invoices", { guid, invoice_type: TERMS, transaction_type: N.TransactionKind.debit,
      customer_guid: checkout.customer_guid, subscription_guid: null, period: null, scheduled_at: null,
      amount: allocation.terms_amount, total_adjustment_amount: 0, effective_amount: allocation.terms_amount,
      title: `Checkout ${checkout.guid}`, external_id: null, appears_on_statement_as: null, funding_instrument_uri: null,
      status: N.TermsInvoiceStatus.open, items: checkout.items, adjustments: "[]", terms_days: confirmation.terms_days,
      due_at: confirmation.due_at, checkout_guid: checkout.guid,
      terms_funding_instrument_uri: confirmation.terms_funding_instrument_uri, terms_charged: 0, amount_paid: 0,
      currency: checkout.currency, metadata, created_at: now, updated_at: now });
    this.credit.use(checkout.customer_guid, allocation.terms_amount, now);
    this.#announce(guid, N.WebhookEventType["invoice.created"], now);
    return guid;
  }

  #announce(guid, type, now) {
    this.webhooks.emit(type, () => this.invoiceView(this.db.one("SELECT * FROM invoices WHERE guid = ?", guid)), now);
  }

  outstanding(inv) {
    return this.core.addAmounts(inv.effective_amount, -inv.amount_paid);
  }

  /** Records a payment received outside the processor (a bank transfer). */
  record(inv, payment, now) {
    this.db.insert("transactions", { ...this.core.recordedTransaction(), unwanted: 0, guid: this.core.guid("TX"),
      owner_type: INVOICE, owner_guid: inv.guid, transaction_type: N.TransactionKind.debit, amount: payment.amount,
      currency: inv.currency, reason: N.TransactionReason.external_payment, funding_instrument_uri: null,
      appears_on_statement_as: null, reference_guid: null, customer_guid: inv.customer_guid,
      description: "payment received", destination: null, created_at: payment.paid_at, updated_at: now });
    this.paid(inv.guid, payment.amount, payment.paid_at, now);
  }

  /**
   * `amount` of a terms invoice came in at `paidAt` (a recorded payment or its charge): the core says what counts
   * (it gives back as much credit) and what goes back to the buyer as a balance credit (`invoice_overpaid`).
   */
  paid(invoiceGuid, amount, paidAt, now) {
    const inv = this.db.one("SELECT * FROM invoices WHERE guid = ?", invoiceGuid);
    const outcome = this.core.termsAfterPayment(inv.status, inv.effective_amount, inv.amount_paid, amount, inv.due_at, paidAt);
    if (outcome.returned > 0) {
      this.balances.entry({ customer_guid: inv.customer_guid, currency: inv.currency, amount: -outcome.returned,
        transaction_type: N.BalanceTransactionType.invoice_overpaid, checkout_guid: inv.checkout_guid }, now);
    }
    if (outcome.applied === 0) return;
    this.db.update("invoices", inv.guid, { amount_paid: outcome.amount_paid, status: outcome.status, updated_at: now });
    this.#announce(inv.guid, N.WebhookEventType["invoice.updated"], now);
    this.credit.use(inv.customer_guid, -outcome.applied, now);
    if (outcome.paid_on_time !== null) {
      const checkout = inv.checkout_guid ? this.db.one("SELECT allocation FROM checkouts WHERE guid = ?", inv.checkout_guid) : null;
      const split = checkout?.allocation ? JSON.parse(checkout.allocation).card_amount > 0 : false;
      this.credit.record(inv.customer_guid, { kind: outcome.paid_on_time ? N.CreditEventKind.paid_on_time
        : N.CreditEventKind.paid_late, split, invoice_guid: inv.guid }, now);
    }
  }

  /** Due work: an open terms invoice without an instrument has fallen due. */
  fallDue(invoiceGuid, now) {
    this.db.tx(() => {
      const inv = this.db.one("SELECT * FROM invoices WHERE guid = ?", invoiceGuid);
      if (!inv || !this.core.termsFallsOverdue(inv.status, inv.due_at, now)) return;
      this.overdue(inv, now);
    });
  }

  overdue(inv, now) {
    this.db.update("invoices", inv.guid, { status: N.TermsInvoiceStatus.overdue, updated_at: now });
    this.#announce(inv.guid, N.WebhookEventType["invoice.updated"], now);
    this.credit.record(inv.customer_guid, { kind: N.CreditEventKind.overdue, invoice_guid: inv.guid }, now);
  }

  /** Due work: charge a terms invoice's instrument at its due date for what is outstanding. Returns the charge. */
  async charge(invoiceGuid, now) {
    const guid = this.db.tx(() => {
      const inv = this.db.one("SELECT * FROM invoices WHERE guid = ?", invoiceGuid);
      if (!inv || inv.terms_charged || inv.status !== N.TermsInvoiceStatus.open) return null;
      this.db.update("invoices", inv.guid, { terms_charged: 1, updated_at: now });
      return this.payments.stage({ owner_type: INVOICE, owner_guid: inv.guid, transaction_type: N.TransactionKind.debit,
        amount: this.outstanding(inv), currency: inv.currency, customer_guid: inv.customer_guid,
        funding_instrument_uri: inv.terms_funding_instrument_uri, description: `terms invoice ${inv.guid}` }, now);
    });
    if (guid) await this.payments.submit(guid);
  }

  /** How a terms invoice follows its charge: success is a payment; a final failure past due makes it overdue. */
  follow(inv, tx, effect, now) {
    if (effect === N.TransactionEffect.succeeded) this.paid(inv.guid, tx.amount, now, now);
    else if (effect === N.TransactionEffect.failed && this.core.termsFallsOverdue(inv.status, inv.due_at, now)) {
      this.overdue(inv, now);
    }
  }
}
