// @ts-check
// The processor adapter interface. Billing talks only to this shape:
//   submit({ idempotency_key, kind: "debit"|"credit"|"refund", amount, funding_instrument_uri,
//            appears_on_statement_as, reference_processor_uri }) → Outcome
//   retrieve({ processor_uri }) → Outcome
//   lookup({ idempotency_key }) → Outcome | { outcome: "not_found" }   (did an attempt whose answer was lost charge?)
//   Outcome = { outcome: "succeeded"|"pending"|"declined"|"error", processor_uri?, error_code?, error_message? }
// "declined" is final (a hard decline, never retried); "error" is transient (retried with backoff).
// The idempotency key is the transaction guid: a resubmission returns the first result and never moves money twice.
// Only the built-in simulator exists today; a real adapter implements the same two calls.

/** @param {any} env @param {{guid: string, processor_key: string|null}} company */
export function processorFor(env, company) {
  const stub = env.SIMULATOR.get(env.SIMULATOR.idFromName(`sim:${company.guid}`));
  const call = async (path, body) => {
    const res = await stub.fetch(`https://simulator${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`simulator ${path}: HTTP ${res.status}`);
    return res.json();
  };
  return {
    submit: (request) => call("/submit", request),
    retrieve: (request) => call("/retrieve", request),
    lookup: (request) => call("/lookup", request),
    ledger: () => call("/ledger", {}),
  };
}
