// @ts-check
// Which company a key is for, and whether that company exists, decided at the edge without waking any storage
// when it can be. Company guids are signed: `CP` + 17 random base58 digits + an 8-digit tag of their HMAC under
// COMPANY_ID_SECRET (the shapes are the core's, src/ids.rs). A made-up key names a guid whose tag does not verify,
// and is refused here: it costs no Durable Object and no storage. A key for a real company wakes that company
// only, which checks the secret's hash. Guids made before signing (or by a deployment without the secret) are
// looked up in the registry once per isolate.
import * as core from "./core.js";
import { constantTimeEqual } from "./crypto.js";
import { registryOf } from "./registry.js";

const MAC_KEYS = new Map();
/** Guids that cannot be verified by their tag, per isolate (bounded): companies known to exist, and not. */
const KNOWN = new Set();
const UNKNOWN = new Set();
const CACHE_MAX = 100_000;

async function hmacHex(secret, text) {
  let key = MAC_KEYS.get(secret);
  if (!key) {
    key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" },
      false, ["sign"]);
    MAC_KEYS.set(secret, key);
  }
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
  return [...mac.subarray(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A new company guid: signed when the deployment has COMPANY_ID_SECRET. @param {any} env */
export async function newCompanyGuid(env) {
  const secret = env.COMPANY_ID_SECRET;
  if (!secret) return core.guid("CP");
  const body = core.companyGuidBody();
  return body + core.companyGuidTag(await hmacHex(secret, body));
}

/** Remembers a company this isolate created (its guid may not be signed). @param {string} guid */
export function remember(guid) {
  if (KNOWN.size >= CACHE_MAX) KNOWN.clear();
  KNOWN.add(guid);
  UNKNOWN.delete(guid);
}

/**
 * Whether the company may exist. A signed guid is answered from its tag alone; any other guid by the registry,
 * once per isolate. A "no" is cached only when the deployment signs guids: then no new unsigned guid can appear,
 * while without the secret a company created a moment ago by another isolate must not be refused.
 * @param {any} env @param {string} guid
 */
export async function companyMayExist(env, guid) {
  const secret = env.COMPANY_ID_SECRET;
  const parts = core.signedCompanyGuidParts(guid);
  if (secret && parts) return constantTimeEqual(parts[1], core.companyGuidTag(await hmacHex(secret, parts[0])));
  if (KNOWN.has(guid)) return true;
  if (UNKNOWN.has(guid)) return false;
  const exists = await registryOf(env).has(guid);
  if (exists) remember(guid);
  else if (secret) {
    if (UNKNOWN.size >= CACHE_MAX) UNKNOWN.clear();
    UNKNOWN.add(guid);
  }
  return exists;
}
