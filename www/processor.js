// @ts-check
// The processor adapter interface. The payment path (www/payments.js) talks only to this shape:
//   submit({ idempotency_key, kind: "debit"|"credit"|"refund"|"reversal", amount, funding_instrument_uri,
//            appears_on_statement_as, reference_processor_uri }) → Answer
//   retrieve({ processor_uri }) → Answer
//   lookup({ idempotency_key }) → Answer | { outcome: "not_found" }   (did an attempt whose answer was lost charge?)
//   Answer = { outcome: "succeeded"|"pending"|"declined"|"error", processor_uri?, error_code?, error_message? }
// "declined" is final (a hard decline, never retried); "error" is transient (retried with backoff); a call that
// throws counts as "error". The idempotency key is the transaction guid: a resubmission returns the first result
// and never moves money twice. Only the built-in simulator exists today; a real adapter implements the same calls.

/** @param {any} env @param {{guid: string, processor_key: string|null}} company */
export function processorFor(env, company) {
  const sim = env.SIMULATOR.get(env.SIMULATOR.idFromName(`sim:${company.guid}`));
  return {
    submit: (request) => sim.submit(request),
    retrieve: (request) => sim.retrieve(request),
    lookup: (request) => sim.lookup(request),
    ledger: () => sim.ledger(),
  };
}
