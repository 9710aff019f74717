// @ts-check
// HTTP plumbing shared by every route: JSON responses, Billy-compatible errors, body and query parsing.
// No business rule lives here; values are handed to the core untouched (strings stay strings).

const MAX_BODY_BYTES = 1 << 20;

/** An error that becomes a JSON response. Core errors (thrown by pkg/) carry the same three properties. */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {string|null} [field] */
  constructor(status, code, message, field = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** 405 with the `Allow` header RFC 9110 asks for. @param {string} method @param {string} path @param {string[]} allowed */
export function methodNotAllowed(method, path, allowed) {
  const err = /** @type {ApiError & { allow?: string }} */ (new ApiError(405, "method_not_allowed", `${method} is not allowed on ${path}`));
  err.allow = [...new Set(allowed)].sort().join(", ");
  return err;
}

export const notFound = (what, guid) => new ApiError(404, "not_found", `No such ${what}: ${guid}`, null);

/** Billy's clients read `error_class`/`error_message`; new clients read `error`. */
const ERROR_CLASS = { 400: "ValidationError", 401: "AuthenticationError", 403: "PermissionError", 404: "NotFoundError",
  405: "MethodNotAllowedError", 409: "ConflictError", 413: "ValidationError", 415: "ValidationError",
  429: "RateLimitError", 503: "ServiceUnavailableError" };

export function json(body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** Turns anything thrown into a response: known errors keep their status, the rest is a logged 500. */
export function errorResponse(err) {
  const e = /** @type {any} */ (err);
  if (e && typeof e.status === "number" && typeof e.code === "string" && ((e.status >= 400 && e.status < 500) || e.status === 503)) {
    const error = { code: e.code, message: String(e.message) };
    if (e.field) error.field = e.field;
    // A batch refused whole lists what was wrong with each of its items.
    if (Array.isArray(e.errors)) error.errors = e.errors;
    const headers = e.status === 401 ? { "www-authenticate": 'Basic realm="billy"' } : e.allow ? { allow: e.allow }
      : e.retryAfter ? { "retry-after": String(e.retryAfter) } : {};
    return json({ error, error_class: ERROR_CLASS[e.status] || "RequestError", error_message: error.message },
      e.status, headers);
  }
  console.error("internal error", e && e.stack ? e.stack : e);
  return json({ error: { code: "internal_error", message: "Internal error" }, error_class: "InternalError",
    error_message: "Internal error" }, 500);
}

/**
 * Reads a request body as a plain object: JSON objects, urlencoded forms (Billy's clients) and multipart forms.
 * An empty body is an empty object. Repeated form keys keep the last value.
 * @returns {Promise<Record<string, unknown>>}
 */
export async function readBody(request) {
  return parseBody(await readText(request), request.headers);
}

const tooLarge = () => new ApiError(413, "body_too_large", "Request body is larger than 1 MiB");

/**
 * The body as text, refused with 413 as soon as it passes MAX_BODY_BYTES: a declared Content-Length over the limit
 * is refused before a byte is read, and an undeclared (chunked) body is counted while it streams, so a huge body is
 * never buffered whole.
 * @param {Request} request
 */
export async function readText(request) {
  const declared = Number(request.headers.get("content-length") || 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge(); // the caller's catch cancels the body
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) { await reader.cancel().catch(() => {}); throw tooLarge(); }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.byteLength; }
  return new TextDecoder().decode(bytes);
}

/** @param {string} text @param {Headers} headers @returns {Promise<Record<string, unknown>>} */
export async function parseBody(text, headers) {
  if (text.length > MAX_BODY_BYTES) throw tooLarge();
  if (text.trim() === "") return {};
  const type = (headers.get("content-type") || "").split(";")[0].trim().toLowerCase();
  if (type === "application/json" || (type === "" && /^\s*[{[]/.test(text))) {
    let value;
    try { value = JSON.parse(text); } catch {
      throw new ApiError(400, "invalid_json", "Request body is not valid JSON");
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      throw new ApiError(400, "invalid_json", "Request body must be a JSON object");
    }
    return value;
  }
  if (type === "" || type === "application/x-www-form-urlencoded" || type === "text/plain") {
    return Object.fromEntries(new URLSearchParams(text));
  }
  if (type === "multipart/form-data") {
    let form;
    try { form = await new Request("http://x/", { method: "POST", headers, body: text }).formData(); }
    catch { throw new ApiError(400, "invalid_body", "Malformed multipart body"); }
    const out = {};
    for (const [k, v] of form) if (typeof v === "string") out[k] = v;
    return out;
  }
  throw new ApiError(415, "unsupported_media_type",
    `Content-Type ${type} is not supported; send application/json or application/x-www-form-urlencoded`);
}

/** Query parameters as a plain object (last value wins). */
export const query = (url) => Object.fromEntries(url.searchParams);

/**
 * Extracts the API key: HTTP Basic username (blank password, as Billy's clients send it) or a Bearer token.
 * @returns {string|null}
 */
export function apiKeyOf(request) {
  const h = request.headers.get("authorization");
  if (!h) return null;
  const [scheme, value = ""] = h.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme)) return value || null;
  if (/^basic$/i.test(scheme)) {
    let decoded;
    try { decoded = atob(value); } catch { return null; }
    const user = decoded.split(":")[0];
    return user || null;
  }
  return null;
}

/** Reads an unread request body, so an early error does not leave the client's connection half-read. */
export async function drain(request) {
  // Cancelled, not read: an unread body can be of any size.
  if (request.body && !request.bodyUsed) await request.body.cancel().catch(() => {});
}
