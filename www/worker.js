// @ts-check
// Edge entry point: routes a request to its company's Durable Object. The API key names its company
// (`<company guid>_<secret>`), so there is no global lookup on the hot path; the object checks the secret.
import * as core from "./core.js";
import { ApiError, apiKeyOf, errorResponse, json, readBody } from "./http.js";
import { drain, sha256Hex } from "./company.js";

export { Company } from "./company.js";
export { Simulator } from "./simulator.js";
export { Registry } from "./registry.js";

const VERSION = "0.1.0";

/** @param {any} env @param {string} guid */
const companyStub = (env, guid) => env.COMPANY.get(env.COMPANY.idFromName(guid));

async function createCompany(request, env) {
  const input = await readBody(request);
  const settings = core.validateCompany(input);
  const guid = core.guid("CP");
  const apiKey = core.apiKey(guid);
  const clock = input.clock !== undefined && input.clock !== "" && input.clock !== null
    ? core.parseTime(String(input.clock), "clock") : null;
  if (clock && !settings.test_mode) throw new ApiError(400, "invalid_field", "clock needs test_mode", "clock");
  const stub = companyStub(env, guid);
  const res = await stub.fetch("https://company/_internal/create", {
    method: "POST",
    body: JSON.stringify({ guid, key_hash: await sha256Hex(apiKey), processor_key: settings.processor_key,
      test_mode: settings.test_mode, clock }),
  });
  if (!res.ok) return res;
  // The registry only feeds the cron safety net; it is never read on a request path.
  await env.REGISTRY.get(env.REGISTRY.idFromName("registry")).fetch("https://registry/add", {
    method: "POST", body: JSON.stringify({ guid }) });
  const company = await (await stub.fetch(`https://company/v1/companies/${guid}`, {
    headers: { "x-billy-api-key": apiKey } })).json();
  return json({ ...company, api_key: apiKey });
}

/**
 * CORS: browsers may call the API from any origin with an explicit Authorization header. `*` never lets a browser
 * attach stored credentials, so a page can only use a key it was given.
 */
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, idempotency-key",
  "access-control-expose-headers": "idempotent-replayed",
  "access-control-max-age": "86400",
};

function withCors(response) {
  const out = new Response(response.body, response);
  for (const [k, v] of Object.entries(CORS)) out.headers.set(k, v);
  return out;
}

export default {
  /** @param {Request} request @param {any} env */
  async fetch(request, env) {
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
    return withCors(await route(request, env));
  },

  /** Cron safety net: wake every company's scheduler in case an alarm was lost. */
  async scheduled(_event, env, ctx) {
    const res = await env.REGISTRY.get(env.REGISTRY.idFromName("registry")).fetch("https://registry/list");
    const { guids } = await res.json();
    ctx.waitUntil(Promise.allSettled(guids.map((g) => companyStub(env, g).fetch("https://company/_internal/tick",
      { method: "POST" }))));
  },
};

/** @param {Request} request @param {any} env */
async function route(request, env) {
  try {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/") return json({ name: "billy-edge", version: VERSION, api: "/v1" });
    if (!path.startsWith("/v1/")) throw new ApiError(404, "not_found", `No route for ${url.pathname}`);
    if (path === "/v1/companies" && request.method === "POST") return await createCompany(request, env);
    const key = apiKeyOf(request);
    if (!key) throw new ApiError(401, "invalid_api_key", "Missing API key: pass it as the Basic-auth username");
    let guid;
    try { guid = core.companyOfKey(key); } catch { throw new ApiError(401, "invalid_api_key", "Invalid API key"); }
    const headers = new Headers(request.headers);
    headers.set("x-billy-api-key", key);
    return await companyStub(env, guid).fetch(new Request(request, { headers }));
  } catch (err) {
    await drain(request);
    return errorResponse(err);
  }
}
