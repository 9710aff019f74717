// @ts-check
// The one place the worker loads the Rust core. workerd hands us a compiled WebAssembly.Module for the
// `.wasm` import (Miniflare `CompiledWasm` rule, wrangler's default), so initialisation is synchronous.
import wasmModule from "../pkg/billy_edge_bg.wasm";
import { initSync, names, defaults, guid as pkgGuid, guids as pkgGuids } from "../pkg/billy_edge.js";

initSync({ module: wasmModule });

export * from "../pkg/billy_edge.js";

/**
 * A new guid (the core's `guid`), made at the host's time: guids sort by when they were made, so the indexes keyed
 * by them grow at their end (src/ids.rs). The time is the host's clock, not a company's test clock: it orders
 * storage, it decides nothing. These local exports take the place of the core's two-argument ones.
 * @param {string} prefix
 */
export function guid(prefix) {
  return pkgGuid(prefix, Date.now());
}

/** `n` new guids (the core's `guids`), made at the host's time. @param {string} prefix @param {number} n */
export function guids(prefix, n) {
  return pkgGuids(prefix, n, Date.now());
}

/**
 * Every status, kind and effect name, from the core (`N.SubmitStatus.staged`). Reading a name the core does not
 * have throws, so a typo can never become a silent `undefined` in a query.
 */
export const N = strict(names(), "names");

/** Every default the core decides (retry attempts, poll interval, key overlap). */
export const DEFAULTS = Object.freeze(defaults());

function strict(object, path) {
  const inner = Object.fromEntries(Object.entries(object).map(([k, v]) =>
    [k, v && typeof v === "object" ? strict(v, `${path}.${k}`) : v]));
  return new Proxy(Object.freeze(inner), {
    get(target, key) {
      if (typeof key === "string" && !(key in target)) throw new Error(`core: no name ${path}.${key}`);
      return target[/** @type {any} */ (key)];
    },
  });
}
