// @ts-check
// /v1/orders: escrow orders (one merchant each), the debits that bring buyer funds in, the credits and payouts that
// take them out, refunds of debits and reversals of credits (/v1/transactions/<guid>/refunds|reversals), and the
// order's lists. Whether money may move is the core's decision (src/escrow.rs), taken inside the transaction that
// stages the movement; the balances move with it (www/orders.js).
import { ApiError, json } from "../http.js";
import * as views from "../views.js";
import { N } from "../core.js";
import { OWNER } from "../orders.js";
import { find, findCustomer, referenced } from "./find.js";
import { listPage } from "./list.js";
import { mergedMetadata } from "./metadata.js";
import { transactionView } from "./transactions.js";

const findOrder = (r, guid) => find(r, "orders", "order", guid);
const findTransaction = (r, guid) => find(r, "transactions", "transaction", guid);
const show = (r, guid) => json(views.order(findOrder(r, guid)));
const showTx = (r, guid) => json(transactionView(r, findTransaction(r, guid)));

function create(r, merchantInPath) {
  const v = r.core.validateOrder(r.body, merchantInPath);
  const now = r.now();
  const guid = r.core.guid("OR");
  r.db.tx(() => {
    if (merchantInPath) {
      const merchant = findCustomer(r, merchantInPath);
      if (merchant.deleted) throw new ApiError(409, "customer_deleted", `The customer ${merchant.guid} is deleted`);
    } else {
      referenced(r, "customers", "customer", v.merchant_guid, "merchant_guid");
    }
    r.db.insert("orders", { guid, merchant_guid: v.merchant_guid, description: v.description,
      delivery_address: v.delivery_address, currency: v.currency, amount: 0, amount_escrowed: 0, amount_credited: 0,
      metadata: mergedMetadata(r), created_at: now, updated_at: now });
  });
  return show(r, guid);
}

/** The order's transactions, all or of one kind. */
function movements(r, kind = null) {
  const order = findOrder(r, r.params[0]);
  return listPage(r, { table: "transactions", where: `owner_type = ? AND owner_guid = ?${kind ? " AND transaction_type = ?" : ""}`,
    args: [OWNER, order.guid, ...(kind ? [kind] : [])], view: (row) => transactionView(r, row) });
}

/** Stages credits planned by the core (inside the caller's transaction); returns their guids. */
function payOut(r, order, plans, now) {
  const merchant = r.db.one("SELECT * FROM customers WHERE guid = ?", order.merchant_guid);
  const guids = plans.map((p) => r.payments.stage({ owner_type: OWNER, owner_guid: order.guid,
    transaction_type: p.transaction_type, amount: p.amount, currency: order.currency, destination: p.destination,
    customer_guid: p.destination === N.CreditDestination.merchant ? merchant.guid : null,
    funding_instrument_uri: p.funding_instrument_uri ?? (p.destination === N.CreditDestination.merchant
      ? merchant.processor_uri : null),
    description: p.description ?? order.description, metadata: mergedMetadata(r) }, now));
  // On Stripe a payout is a Transfer to a connected account: anything else is refused now (422), not declined later.
  // A marketplace's fee with no instrument stays in the platform's Stripe balance: nothing to send.
  if (r.company.processor === N.ProcessorName.stripe) {
    for (const g of guids) {
      const tx = r.db.one("SELECT funding_instrument_uri, destination FROM transactions WHERE guid = ?", g);
      if (tx.destination === N.CreditDestination.marketplace && !tx.funding_instrument_uri) continue;
      r.core.stripeInstrument(N.TransactionKind.credit, tx.funding_instrument_uri);
    }
  }
  return guids;
}

/** Stages one movement, with the request's recovery point: the transaction as it will then stand. */
function staged(r, row, now) {
  const guid = r.payments.stage(row, now);
  r.recover(["get", `/v1/transactions/${guid}`]);
  return guid;
}

const payoutView = (r, guid, credits) => json({ order: views.order(findOrder(r, guid)),
  credits: credits.map((g) => transactionView(r, findTransaction(r, g))) });

/** Recovery points of order requests whose answer is not one object (www/idempotency.js). */
export const recoveries = { payout: payoutView };

async function submitAll(r, guids) {
  for (const g of guids) {
    try { await r.payments.submit(g); } catch (err) { console.error("submit", g, err?.message || err); }
  }
}

export const routes = [
  ["POST", "/v1/orders", (r) => create(r, null)],
  ["POST", "/v1/customers/:guid/orders", (r) => create(r, r.params[0])],
  ["GET", "/v1/orders", (r) => listPage(r, { table: "orders", view: views.order })],
  ["GET", "/v1/customers/:guid/orders", (r) => {
    const merchant = findCustomer(r, r.params[0]);
    return listPage(r, { table: "orders", where: "merchant_guid = ?", args: [merchant.guid], view: views.order });
  }],
  ["GET", "/v1/orders/:guid", (r) => show(r, r.params[0])],
  ["PUT", "/v1/orders/:guid", (r) => {
    const guid = r.params[0];
    const u = r.core.validateOrderUpdate(r.body);
    const now = r.now();
    r.db.tx(() => {
      findOrder(r, guid);
      const order = findOrder(r, guid);
      const changes = Object.fromEntries(Object.entries(u).filter(([, v]) => v !== null));
      r.db.update("orders", guid, { ...changes, metadata: mergedMetadata(r, order.metadata), updated_at: now });
    });
    return show(r, guid);
  }],

  // A buyer's debit into the order: it holds nothing until it succeeds.
  ["POST", "/v1/orders/:guid/debits", async (r) => {
    const order = findOrder(r, r.params[0]);
    const now = r.now();
    const guid = r.db.tx(() => {
      const plan = r.core.planOrderDebit(r.body, order.merchant_guid, order.description, r.payments.rowsOf(OWNER, order.guid));
      const merchant = findCustomer(r, order.merchant_guid);
      if (merchant.deleted) {
        throw new ApiError(409, "merchant_deleted", `The order's merchant ${merchant.guid} is deleted: it takes no new debits`);
      }
      referenced(r, "customers", "customer", plan.customer_guid, "customer_guid");
      return staged(r, { owner_type: OWNER, owner_guid: order.guid, transaction_type: plan.transaction_type,
        amount: plan.amount, currency: order.currency, customer_guid: plan.customer_guid,
        funding_instrument_uri: plan.funding_instrument_uri, description: plan.description,
        appears_on_statement_as: plan.appears_on_statement_as, metadata: mergedMetadata(r) }, now);
    });
    await submitAll(r, [guid]);
    return showTx(r, guid);
  }],
  // A credit to the merchant (or the marketplace): it lowers the escrow the moment it is created.
  ["POST", "/v1/orders/:guid/credits", async (r) => {
    const guid = r.params[0];
    const now = r.now();
    const [credit] = r.db.tx(() => {
      const order = findOrder(r, guid);
      const guids = payOut(r, order, [r.core.planOrderCredit(r.body, order.amount_escrowed)], now);
      r.recover(["get", `/v1/transactions/${guids[0]}`]);
      return guids;
    });
    await submitAll(r, [credit]);
    return showTx(r, credit);
  }],
  // A payout with a fee: the marketplace's credit and the merchant's, both or neither.
  ["POST", "/v1/orders/:guid/payout", async (r) => {
    const guid = r.params[0];
    const now = r.now();
    const credits = r.db.tx(() => {
      const order = findOrder(r, guid);
      const guids = payOut(r, order, r.core.planOrderPayout(r.body, order.amount_escrowed), now);
      r.recover(["payout", guid, guids]);
      return guids;
    });
    await submitAll(r, credits);
    return payoutView(r, guid, credits);
  }],
  ["POST", "/v1/transactions/:guid/refunds", async (r) => returned(r, N.TransactionKind.refund)],
  ["POST", "/v1/transactions/:guid/reversals", async (r) => returned(r, N.TransactionKind.reversal)],

  ["GET", "/v1/orders/:guid/transactions", (r) => movements(r)],
  ["GET", "/v1/orders/:guid/debits", (r) => movements(r, N.TransactionKind.debit)],
  ["GET", "/v1/orders/:guid/credits", (r) => movements(r, N.TransactionKind.credit)],
  ["GET", "/v1/orders/:guid/refunds", (r) => movements(r, N.TransactionKind.refund)],
  ["GET", "/v1/orders/:guid/reversals", (r) => movements(r, N.TransactionKind.reversal)],
  // Buyers: the customers whose debits into the order did not fail.
  ["GET", "/v1/orders/:guid/buyers", (r) => {
    const order = findOrder(r, r.params[0]);
    return listPage(r, { table: "customers", alias: "c", where: `c.guid IN (SELECT customer_guid FROM transactions
      WHERE owner_type = ? AND owner_guid = ? AND transaction_type = ? AND submit_status NOT IN (?, ?)
      AND (status IS NULL OR status != ?))`,
    args: [OWNER, order.guid, N.TransactionKind.debit, N.SubmitStatus.failed, N.SubmitStatus.canceled,
      N.TransactionStatus.failed], view: (row) => views.customer(row, r.company.guid) });
  }],
];

/** A refund of an order's debit or a reversal of its credit, as the core plans it. */
async function returned(r, kind) {
  const target = r.params[0];
  const now = r.now();
  const guid = r.db.tx(() => {
    const row = findTransaction(r, target);
    if (row.owner_type !== OWNER) {
      throw new ApiError(409, "invalid_state", kind === N.TransactionKind.refund
        ? "Only order debits are refunded here; refund an invoice with POST /v1/invoices/<guid>/refund"
        : "Only order credits are reversed here");
    }
    const order = findOrder(r, row.owner_guid);
    const all = r.payments.rowsOf(OWNER, order.guid);
    const plan = kind === N.TransactionKind.refund
      ? r.core.planOrderRefund(r.body, row, all, order.amount_escrowed)
      : r.core.planOrderReversal(r.body, row, all);
    return staged(r, { owner_type: OWNER, owner_guid: order.guid, transaction_type: plan.transaction_type,
      amount: plan.amount, currency: order.currency, reference_guid: plan.reference_guid,
      customer_guid: row.customer_guid, destination: row.destination, funding_instrument_uri: row.funding_instrument_uri,
      description: plan.description ?? row.description }, now);
  });
  await submitAll(r, [guid]);
  return showTx(r, guid);
}
