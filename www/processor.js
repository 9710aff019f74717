// @ts-check
// The processor adapter interface. The payment path (www/payments.js) talks only to this shape:
//   submit({ idempotency_key, kind: "debit"|"credit"|"refund"|"reversal", amount, funding_instrument_uri,
//            appears_on_statement_as, reference_processor_uri }) → Answer
//   retrieve({ processor_uri }) → Answer
//   lookup({ idempotency_key }) → Answer | { outcome: "not_found" }   (did an attempt whose answer was lost charge?)
//   Answer = { outcome: "succeeded"|"pending"|"declined"|"error", processor_uri?, error_code?, error_message? }
// "declined" is final (a hard decline, never retried); "error" is transient (retried with backoff); a call that
// throws counts as "error". The idempotency key is the transaction guid: a resubmission returns the first result
// and never moves money twice. Two adapters: the built-in simulator, and Stripe (www/stripe.js).
import * as core from "./core.js";
import { seal, unseal } from "./crypto.js";
import { stripeProcessor } from "./stripe.js";

/** Stripe's API, unless STRIPE_API_BASE points elsewhere (a local Stripe server in the tests). */
const STRIPE_API = "https://api.stripe.com";

/** The secret that seals processor keys at rest. @param {any} env */
export function sealSecret(env) {
  if (!env.PROCESSOR_KEY_SECRET) throw new Error("PROCESSOR_KEY_SECRET is not configured: processor keys cannot be stored");
  return String(env.PROCESSOR_KEY_SECRET);
}

/**
 * The company columns for validated processor settings: Stripe's key and webhook secret sealed (a simulator company
 * keeps no key: Billy's clients send one it never uses), the key's last four characters in the clear.
 * @param {any} env @param {string} guid
 * @param {{ processor: string, processor_key: string|null, stripe_webhook_secret: string|null }} settings
 */
export async function processorColumns(env, guid, settings) {
  const stripe = settings.processor === core.N.ProcessorName.stripe;
  const sealIf = async (v, column) => (stripe && v ? seal(sealSecret(env), v, `${guid}:${column}`) : null);
  return { processor: settings.processor, processor_key: await sealIf(settings.processor_key, "processor_key"),
    processor_key_last4: settings.processor_key ? settings.processor_key.slice(-4) : null,
    stripe_webhook_secret: await sealIf(settings.stripe_webhook_secret, "stripe_webhook_secret") };
}

/** The settings stored for a company, opened (for a change of them). @param {any} env @param {any} row */
export async function processorSettingsOf(env, row) {
  const open = async (column) => (row[column] ? unseal(sealSecret(env), row[column], `${row.guid}:${column}`) : null);
  return { processor: row.processor, processor_key: await open("processor_key"),
    stripe_webhook_secret: await open("stripe_webhook_secret") };
}

/**
 * @param {any} env @param {{guid: string, processor: string, processor_key: string|null}} company
 * @param {import("./simulator.js").Simulator} simulator the company's built-in simulator
 */
export function processorFor(env, company, simulator) {
  if (company.processor === core.N.ProcessorName.stripe) {
    let key = null;
    return stripeProcessor({ apiBase: env.STRIPE_API_BASE || STRIPE_API, core,
      key: () => (key ??= unseal(sealSecret(env), String(company.processor_key), `${company.guid}:processor_key`)) });
  }
  return {
    submit: (request) => simulator.submit(request),
    retrieve: (request) => simulator.retrieve(request),
    lookup: (request) => simulator.lookup(request),
    ledger: () => simulator.ledger(),
  };
}
