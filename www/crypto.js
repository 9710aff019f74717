// @ts-check
// Hashing and comparison of credentials. Keys are 256-bit random secrets, so a fast hash is enough; comparisons
// take the same time whatever the input.

/** Lowercase hex SHA-256 of a string. @param {string} text */
export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Equality of two strings in time that depends only on their lengths. @param {string} a @param {string} b */
export function constantTimeEqual(a, b) {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
