// @ts-check
// The Stripe processor adapter: the interface of www/processor.js over Stripe's REST API (form bodies, `fetch`, no
// SDK: the npm package is 18 MB for the four calls we make). What each transaction becomes at Stripe, and what each
// answer means, is the core's (src/stripe.rs); this module only sends requests.
//
// Every request that moves money carries `Idempotency-Key: <transaction guid>` and `metadata[billy_transaction]`,
// so a retry after a lost answer is answered by Stripe with the first result. A retry also looks for the first
// attempt by that metadata before creating anything (the search API, else a scan of recent objects), so no money
// moves twice even where idempotency keys have expired (24 h) or are not honoured.
import { N } from "./core.js";

const K = N.TransactionKind;
const PATHS = { [K.debit]: "/v1/payment_intents", [K.refund]: "/v1/refunds", [K.credit]: "/v1/transfers" };
/** Objects scanned, newest pages first, when the search API is not there (1,000: 10 pages of 100). */
const SCAN_PAGES = 10;
const TIMEOUT_MS = 30_000;

/**
 * @param {{ apiBase: string, key: () => Promise<string>, core: typeof import("./core.js") }} deps (the key is unsealed
 *   when first needed)
 */
export function stripeProcessor({ apiBase, key, core }) {
  const base = apiBase.replace(/\/+$/, "");

  /** One Stripe request → `{status, body}`; no answer is status 0. */
  async function call(method, path, form = null, idempotencyKey = null) {
    const headers = { authorization: `Bearer ${await key()}`, "stripe-version": "2024-06-20" };
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
    try {
      const res = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
      const text = await res.text();
      let json = null;
      try { json = JSON.parse(text); } catch { json = { error: { message: text.slice(0, 200) } }; }
      return { status: res.status, body: json };
    } catch (e) {
      return { status: 0, body: { error: { message: String(/** @type {Error} */ (e).message || e) } } };
    }
  }

  const kindOf = (uri) => (uri.startsWith("/v1/payment_intents/") ? K.debit : uri.startsWith("/v1/refunds/") ? K.refund
    : uri.startsWith("/v1/transfers/") && uri.includes("/reversals/") ? K.reversal : K.credit);
  const idOf = (uri) => String(uri || "").split("/").pop() || "";

  /**
   * The object an earlier attempt made for `idempotencyKey`, or null when Stripe certainly has none; throws when
   * it cannot tell (an unanswered list, more recent objects than the scan reads), which callers count as "the
   * processor cannot say", never as "nothing moved".
   */
  async function find(kind, idempotencyKey, referenceUri) {
    const path = kind === K.reversal ? (referenceUri ? `/v1/transfers/${idOf(referenceUri)}/reversals` : null) : PATHS[kind];
    if (!path) throw new Error(`cannot look up a ${kind} without the movement it returns`);
    const wanted = (o) => o?.metadata?.billy_transaction === idempotencyKey;
    if (kind === K.debit) {
      const q = encodeURIComponent(`metadata['billy_transaction']:'${idempotencyKey}'`);
      const found = await call("GET", `/v1/payment_intents/search?query=${q}&limit=1`);
      const hit = found.status === 200 && Array.isArray(found.body?.data) ? found.body.data.find(wanted) : null;
      if (hit) return hit;
      // Search lags new objects by up to a minute: an empty answer proves nothing. Lists are consistent.
    }
    let after = null;
    for (let page = 0; page < SCAN_PAGES; page++) {
      const list = await call("GET", `${path}?limit=100${after ? `&starting_after=${after}` : ""}`);
      if (list.status !== 200 || !Array.isArray(list.body?.data)) throw new Error(`Stripe list ${path}: ${list.status}`);
      const hit = list.body.data.find(wanted);
      if (hit) return hit;
      if (!list.body.has_more || list.body.data.length === 0) return null;
      after = list.body.data.at(-1).id;
    }
    throw new Error(`more than ${SCAN_PAGES * 100} recent objects at ${path}: cannot tell`);
  }

  return {
    /** @param {{ idempotency_key: string, kind: string, amount: number, currency?: string|null, destination?: string|null,
     *   funding_instrument_uri: string|null, reference_processor_uri: string|null, attempt?: number }} req */
    async submit(req) {
      const kind = req.kind;
      // A marketplace's own share (a payout's fee) is already in the platform's Stripe balance.
      if (kind === K.credit && req.destination === N.CreditDestination.marketplace && !req.funding_instrument_uri) {
        return { outcome: N.ProcessorOutcome.succeeded, processor_uri: null };
      }
      let instrument;
      try { instrument = core.stripeInstrument(kind, req.funding_instrument_uri); } catch (e) {
        return { outcome: N.ProcessorOutcome.declined, error_code: /** @type {any} */ (e).code, error_message: String(/** @type {Error} */ (e).message) };
      }
      if ((req.attempt ?? 1) > 1) {
        const earlier = await find(kind, req.idempotency_key, req.reference_processor_uri);
        if (earlier) return core.stripeAnswer(kind, 200, earlier);
      }
      const meta = { "metadata[billy_transaction]": req.idempotency_key };
      const currency = String(req.currency || "usd").toLowerCase();
      let r;
      if (kind === K.debit) {
        // Cards only, so confirming needs no return_url (automatic payment methods would ask for one).
        r = await call("POST", PATHS.debit, { amount: String(req.amount), currency, confirm: "true", off_session: "true",
          "payment_method_types[]": "card",
          payment_method: instrument.payment_method, ...(instrument.customer ? { customer: instrument.customer } : {}), ...meta },
        req.idempotency_key);
      } else if (kind === K.refund) {
        r = await call("POST", PATHS.refund, { payment_intent: idOf(req.reference_processor_uri), amount: String(req.amount), ...meta },
          req.idempotency_key);
      } else if (kind === K.credit) {
        r = await call("POST", PATHS.credit, { amount: String(req.amount), currency, destination: instrument.destination, ...meta },
          req.idempotency_key);
      } else {
        r = await call("POST", `/v1/transfers/${idOf(req.reference_processor_uri)}/reversals`, { amount: String(req.amount), ...meta },
          req.idempotency_key);
      }
      return core.stripeAnswer(kind, r.status, r.body);
    },

    /** A pending movement's status now. @param {{ processor_uri: string }} req */
    async retrieve({ processor_uri }) {
      const kind = kindOf(processor_uri);
      const path = kind === K.reversal ? processor_uri : `${PATHS[kind]}/${idOf(processor_uri)}`;
      const r = await call("GET", path);
      // An object we made that Stripe no longer finds (another account's key?) is not a decline: ask again later.
      if (r.status === 404) return { outcome: N.ProcessorOutcome.error, error_code: "processor-not-found", error_message: `Stripe has no ${path}` };
      return core.stripeAnswer(kind, r.status, r.body);
    },

    /** Did an attempt whose answer was lost go through?
     * @param {{ idempotency_key: string, kind: string, reference_processor_uri?: string|null }} req */
    async lookup({ idempotency_key, kind, reference_processor_uri = null }) {
      let found;
      try { found = await find(kind, idempotency_key, reference_processor_uri); } catch (e) {
        return { outcome: N.ProcessorOutcome.error, error_code: "processor-unreachable", error_message: String(/** @type {Error} */ (e).message) };
      }
      return found ? core.stripeAnswer(kind, 200, found) : { outcome: N.ProcessorOutcome.not_found };
    },

    async ledger() {
      return { processor: N.ProcessorName.stripe, charges: [] };
    },
  };
}
