// @ts-check
// Invoices as owners of transactions: opening an invoice (and its charge) and following the effects of their own payments. Inside a transaction unless said otherwise.
import { N } from "./core.js";
import * as views from "./views.js";

/** Invoices a confirmed checkout opens for its terms part (www/terms.js). */
export const TERMS = "terms";

export const OWNER = N.OwnerType.invoice;
/** Billy's amounts are US cents: every invoice and its transactions are in USD. */
export const CURRENCY = "USD";
/** Where an invoice's hosted page lives: this + its token (served by www/worker.js, www/static/invoice.html). */
export const HOSTED_INVOICE_PAGE = "/i/";

export class Invoicing {
  /**
   * @param {{ db: import("./db.js").Db, core: typeof import("./core.js"),
   *   payments: import("./payments.js").Payments, terms: import("./terms.js").Terms,
   *   webhooks: import("./webhooks.js").Webhooks }} deps
   */
  constructor({ db, core, payments, terms, webhooks }) {
    this.webhooks = webhooks;
    this.db = db;
    this.core = core;
    this.payments = payments;
    this.terms = terms;
    payments.register(OWNER, { onEffect: (tx, effect, now) => this.#follow(tx, effect, now) });
  }

  /**
   * Inserts an invoice row and, when it can be paid now, its staged charge. Returns the invoice guid.
   * The core decides how it opens: nothing to pay → settled, an instrument → processing + a charge, else staged.
   */
  insert(fields, now) {
    const guid = this.core.guid("IV");
    const { status, charge } = this.core.invoiceOpening(fields.effective_amount, fields.funding_instrument_uri);
    this.db.insert("invoices", { ...fields, guid, status, items: JSON.stringify(fields.items || []),
      adjustments: JSON.stringify(fields.adjustments || []), created_at: now, updated_at: now });
    this.announce(guid, N.WebhookEventType["invoice.created"], now);
    if (charge) this.charge(guid, fields, now);
    return guid;
  }

  /** Stages the invoice's charge (a debit, or a credit for payout plans) for its effective amount. */
  charge(guid, invoice, now) {
    this.payments.stage({ owner_type: OWNER, owner_guid: guid, currency: CURRENCY, transaction_type: invoice.transaction_type,
      amount: invoice.effective_amount, funding_instrument_uri: invoice.funding_instrument_uri,
      appears_on_statement_as: invoice.appears_on_statement_as }, now);
  }

  /**
   * An invoice as the API shows it, everywhere (answers, lists, webhook payloads): the view with its
   * `hosted_invoice_url`, whose token the core derives from the invoice guid under the company's hosted-invoice
   * secret (src/hosted_invoice.rs), synchronously and without storing anything.
   */
  invoiceView(row) {
    return views.invoice(row, `${HOSTED_INVOICE_PAGE}${this.hostedToken(row.guid)}`);
  }

  /** The token of an invoice's page (`/i/<token>`, `/v1/hosted_invoices/<token>`). */
  hostedToken(invoiceGuid) {
    const { guid, hosted_invoice_secret: secret } = this.#hostedSecret();
    return this.core.hostedInvoiceToken(guid, invoiceGuid, secret);
  }

  /** The invoice guid a hosted invoice token opens in this company, or null (malformed, another's, a wrong MAC). */
  hostedInvoiceOf(token) {
    const { guid, hosted_invoice_secret: secret } = this.#hostedSecret();
    return this.core.verifyHostedInvoiceToken(token, guid, secret);
  }

  /** The company's guid and hosted-invoice secret, read once: neither ever changes. */
  #hostedSecret() {
    if (!this.#secret) {
      const row = this.db.one("SELECT guid, hosted_invoice_secret FROM company");
      if (!row?.hosted_invoice_secret) throw new Error("the company has no hosted invoice secret (migration 14)");
      this.#secret = row;
    }
    return this.#secret;
  }

  /** @type {{ guid: string, hosted_invoice_secret: string } | null} */
  #secret = null;

  /** An invoice event for webhooks (inside the transaction of the change). */
  announce(guid, type, now) {
    this.webhooks.emit(type, () => {
      const row = this.db.one("SELECT * FROM invoices WHERE guid = ?", guid);
      return row && this.invoiceView(row);
    }, now);
  }

  /** The invoice changed (a route's action): tell the endpoints. */
  changed(guid, now) {
    this.announce(guid, N.WebhookEventType["invoice.updated"], now);
  }

  /** An invoice follows what happened to one of its payments; the core decides (a canceled one never moves). */
  #follow(tx, effect, now) {
    const inv = this.db.one("SELECT guid, invoice_type, transaction_type, status FROM invoices WHERE guid = ?", tx.owner_guid);
    // Only the invoice's own payments move it: a refund (the repayment of a charge found after a cancel) never does.
    if (!inv || !this.core.isOwnPayment(inv.transaction_type, tx.transaction_type)) return;
    if (inv.invoice_type === TERMS) {
      return this.terms.follow(this.db.one("SELECT * FROM invoices WHERE guid = ?", inv.guid), tx, effect, now);
    }
    const next = this.core.invoiceAfterPayment(inv.status, effect);
    if (next !== inv.status) {
      this.db.update("invoices", inv.guid, { status: next, updated_at: now });
      this.changed(inv.guid, now);
    }
  }
}
