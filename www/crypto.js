// @ts-check
// Hashing and comparison of credentials. Keys are 256-bit random secrets, so a fast hash is enough; comparisons
// take the same time whatever the input.

/** Lowercase hex SHA-256 of a string. @param {string} text */
export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Lowercase hex HMAC-SHA256 of `text` under `key` (both as UTF-8). @param {string} key @param {string} text */
export async function hmacSha256Hex(key, text) {
  const k = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(text));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Equality of two strings in time that depends only on their lengths. @param {string} a @param {string} b */
export function constantTimeEqual(a, b) {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const SEAL_KEYS = new Map();

async function sealKey(secret) {
  let key = SEAL_KEYS.get(secret);
  if (!key) {
    // The binding is any long random string: SHA-256 of it is the AES-256 key.
    const raw = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`billy-seal:${secret}`));
    key = await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
    SEAL_KEYS.set(secret, key);
  }
  return key;
}

/**
 * A secret of a company (its Stripe key) sealed for storage: AES-256-GCM under PROCESSOR_KEY_SECRET, a fresh
 * 96-bit nonce each time, `<company guid>:<column>` as associated data (a sealed value copied to another company or
 * another column does not open). `v1:<nonce>:<ciphertext>`, base64.
 * @param {string} secret @param {string} plaintext @param {string} companyGuid the associated data
 */
export async function seal(secret, plaintext, companyGuid) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(companyGuid) },
    await sealKey(secret), new TextEncoder().encode(plaintext));
  return `v1:${b64(iv)}:${b64(new Uint8Array(ct))}`;
}

/** The plaintext of `seal`, or throws (a wrong secret, another company's value, a tampered one). */
export async function unseal(secret, sealed, companyGuid) {
  const [version, iv, ct] = String(sealed).split(":");
  if (version !== "v1" || !iv || !ct) throw new Error("not a sealed value");
  const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(iv), additionalData: new TextEncoder().encode(companyGuid) },
    await sealKey(secret), unb64(ct));
  return new TextDecoder().decode(pt);
}
