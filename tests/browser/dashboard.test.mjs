// The merchant dashboard in real headless Chromium: sign-in exchanges the key for a session (the key is not kept),
// the transaction and invoice pages show every field and related item, a refund from the invoice page appears, lists
// filter, a subscription's schedule computed in the browser matches the API, a mid-period upgrade's prorations and
// upcoming invoice show and cancel at period end / keep / pause / resume work from its page, and a wrong key and an
// ended session say so. Screenshots at 375 px and on a desktop go to tests/.output.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, T, advance, call, newCompany, ok, startWorker } from "../js/harness.mjs";
import { launch, openPage, shot } from "./browser.mjs";

let w, browser, c, fixtures;
before(async () => {
  [w, browser] = await Promise.all([startWorker(), launch()]);
  c = await newCompany(w.base, { clock: "2024-03-01T12:00:00Z" });
  const cu = ok(await c.api.post("/v1/customers", { "metadata[crm]": "ACME-1" }));
  const paid = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "12500", funding_instrument_uri: CARD,
    title: "March hosting", item_name0: "Hosting", item_amount0: "10000", item_name1: "Support", item_amount1: "2500",
    adjustment_amount0: "-500", adjustment_reason0: "loyalty", "metadata[po]": "PO-77" }));
  const declined = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "4000",
    funding_instrument_uri: "/v1/cards/hard_decline" }));
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", frequency: "monthly", amount: "900" }));
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid, funding_instrument_uri: CARD }));
  const [failedTx] = ok(await c.api.get(`/v1/invoices/${declined.guid}/transactions`)).items;
  fixtures = { cu, paid, declined, sub, failedTx };
});
after(async () => { await browser?.close(); await w?.stop(); });

async function signedIn(width = 1280, hash = "#/") {
  const o = await openPage(browser, `${w.base}/dashboard${hash}`, width);
  await o.page.fill("#api-key", c.key);
  await o.page.click("#signin button[type=submit]");
  await o.page.locator("#nav:not([hidden])").waitFor();
  await o.page.locator("main[aria-busy=false]").waitFor();
  return o;
}

const text = (page, sel) => page.locator(sel).innerText();
const go = async (page, hash) => {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction((h) => location.hash === h && document.querySelector("main").getAttribute("aria-busy") === "false", hash);
};

test("sign-in: a wrong key says so; a right one opens a session and the key is not kept", async () => {
  const { page, errors, close } = await openPage(browser, `${w.base}/dashboard`);
  await page.fill("#api-key", `${c.guid}_${"x".repeat(44)}`);
  await page.click("#signin button[type=submit]");
  await page.locator("#signin-message .notice").waitFor();
  assert.equal(await text(page, "#signin-message"), "That API key is not valid. Check it and try again.");
  await page.fill("#api-key", c.key);
  await page.click("#signin button[type=submit]");
  await page.locator("#settled-total").waitFor();
  assert.equal(await text(page, "main h1"), "Overview");
  assert.equal(await text(page, "#settled-total"), "$129.00", "120.00 (125.00 less 5.00) + the first 9.00 period");
  assert.match(await text(page, "#attention"), /Failed debit/);
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
  assert.ok(!stored.includes(c.key.split("_")[1]), "the API key is not kept in the browser");
  assert.match(stored, /token/);
  await shot(page, "dashboard-desktop");
  // Sign-out revokes the session.
  const token = JSON.parse(await page.evaluate(() => sessionStorage.getItem("billy.dashboard.session"))).token;
  await page.click("#signout");
  await page.locator("#signin").waitFor();
  assert.equal((await call(w.base, "GET", "/v1/customers", { headers: { authorization: `Bearer ${token}` } })).status, 401);
  assert.deepEqual(errors, []);
  await close();
});

test("a transaction page shows every field, its failures and its invoice; a list filters by status", async () => {
  const { page, close } = await signedIn();
  await go(page, `#/transactions/${fixtures.failedTx.guid}`);
  const body = await text(page, "main");
  for (const expected of ["debit", "$40.00", "USD", "failed", "/v1/cards/hard_decline", fixtures.declined.guid,
    fixtures.cu.guid, "card-declined", "The card was declined"]) assert.ok(body.includes(expected), `shows ${expected}`);
  assert.equal(await page.locator(`main a[href="#/invoices/${fixtures.declined.guid}"]`).count(), 1);
  await go(page, "#/transactions");
  assert.match(await text(page, "#count"), /^3 in all/);
  await page.selectOption("#flt-submit_status", "failed");
  await page.click("#filters button[type=submit]");
  await page.waitForFunction(() => location.hash.includes("submit_status=failed") && document.querySelector("main").getAttribute("aria-busy") === "false");
  assert.match(await text(page, "#count"), /^1 in all/);
  assert.ok((await text(page, "main table")).includes(fixtures.failedTx.guid));
  await close();
});

test("an invoice page shows its items and payments; a refund from it appears; back works", async () => {
  const { page, close } = await signedIn(375, `#/invoices/${fixtures.paid.guid}`);
  const body = await text(page, "main");
  for (const expected of ["March hosting", "Hosting", "Support", "$125.00", "$120.00", "-$5.00", "loyalty", "PO-77", "settled"]) {
    assert.ok(body.includes(expected), `shows ${expected}`);
  }
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 380, `fits 375 px (${width})`);
  await shot(page, "dashboard-invoice-375");
  await page.fill("#refund-amount", "2000");
  await page.click("#actions form button[type=submit]");
  await page.click("#actions .yes");
  await page.locator("#actions .notice.ok").waitFor();
  await page.waitForFunction(() => document.querySelector("#inv-transactions")?.innerText.includes("refund"));
  assert.match(await text(page, "#inv-transactions"), /refund\s+\$20\.00\s+succeeded/);
  // Too much: the API's error in words.
  await page.fill("#refund-amount", "99999");
  await page.click("#actions form button[type=submit]");
  await page.click("#actions .yes");
  await page.locator("#actions .notice.error").waitFor();
  assert.match(await text(page, "#actions .notice.error"), /above the invoice's effective amount/);
  await go(page, "#/invoices");
  await page.goBack();
  await page.waitForFunction((g) => location.hash === `#/invoices/${g}`, fixtures.paid.guid);
  await page.locator("#inv-transactions").waitFor();
  await close();
  const refunds = ok(await c.api.get(`/v1/invoices/${fixtures.paid.guid}/transactions`)).items.filter((t) => t.transaction_type === "refund");
  assert.deepEqual(refunds.map((t) => t.amount), [2000]);
});

test("a subscription's schedule, computed in the browser, starts at the API's next_invoice_at", async () => {
  const { page, close } = await signedIn(1280, `#/subscriptions/${fixtures.sub.guid}`);
  await page.locator("#schedule").waitFor();
  const items = await page.locator("#schedule li .hint").allInnerTexts();
  assert.equal(items.length, 12);
  const sub = ok(await c.api.get(`/v1/subscriptions/${fixtures.sub.guid}`));
  assert.equal(items[0], sub.next_invoice_at);
  assert.equal(items[11], "2025-03-01T12:00:00.000000+00:00");
  await close();
});

test("a mid-period upgrade: status, prorations and the upcoming invoice show; cancel at period end, keep, pause, resume", async () => {
  // Its own company: April has 30 days, so April 16 is half of the period a 3000 plan was paid for.
  const d = await newCompany(w.base, { clock: "2024-04-01T00:00:00Z" });
  const small = ok(await d.api.post("/v1/plans", { plan_type: "debit", amount: "3000", frequency: "monthly" }));
  const big = ok(await d.api.post("/v1/plans", { plan_type: "debit", amount: "6000", frequency: "monthly" }));
  const cu = ok(await d.api.post("/v1/customers", {}));
  const s = ok(await d.api.post("/v1/subscriptions", { plan_guid: small.guid, customer_guid: cu.guid, funding_instrument_uri: CARD }));
  await advance(d, "2024-04-16T00:00:00Z");
  const changed = ok(await d.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: big.guid }));
  assert.deepEqual(changed.pending_adjustments.map((a) => a.amount), [-1500, 3000]);

  const o = await openPage(browser, `${w.base}/dashboard#/subscriptions/${s.guid}`, 375);
  const { page, errors } = o;
  await page.fill("#api-key", d.key);
  await page.click("#signin button[type=submit]");
  await page.locator("#sub-status").waitFor();
  assert.equal(await text(page, "#sub-status"), "active");
  const pending = await page.locator("#pending li").allInnerTexts();
  assert.equal(pending.length, 2);
  assert.match(pending[0], /^-\$15\.00 Unused time on plan /);
  assert.match(pending[1], /^\$30\.00 /);
  assert.equal(await text(page, "#up-effective"), "$75.00");
  assert.deepEqual((await page.locator("#up-adjustments li").allInnerTexts()).map((x) => x.split(" ")[0]), ["-$15.00", "$30.00"]);
  assert.equal(await page.locator("#schedule li .hint").first().innerText(), T("2024-05-01", "00:00:00"));
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 380, `fits 375 px (${width})`);
  await shot(page, "dashboard-subscription-375");

  /** Clicks the action `label`, confirms it, and waits for the page to be drawn again with `ready` on it. */
  const act = async (label, ready) => {
    const form = page.locator("#actions form", { has: page.getByRole("button", { name: label, exact: true }) });
    await form.getByRole("button", { name: label, exact: true }).click();
    await form.getByRole("button", { name: `Yes, ${label.toLowerCase()}` }).click();
    await page.locator(ready).waitFor();
  };
  // Cancel at period end: the date shows, and "Keep subscription" replaces the action.
  await act("Cancel at period end", "#sub-cancel-at");
  assert.equal(await page.locator("#sub-cancel-at time").getAttribute("datetime"), T("2024-05-01", "00:00:00"));
  assert.equal(await page.getByRole("button", { name: "Cancel at period end", exact: true }).count(), 0);
  assert.equal(await text(page, "#sub-status"), "active");
  assert.equal(ok(await d.api.get(`/v1/subscriptions/${s.guid}`)).cancel_at_period_end, true);
  await act("Keep subscription", "#actions button:text-is('Cancel at period end')");
  assert.equal(await page.locator("#sub-cancel-at").count(), 0);
  assert.equal(ok(await d.api.get(`/v1/subscriptions/${s.guid}`)).cancel_at, null);
  // Pause: status paused, no upcoming invoice; resume: active again.
  await act("Pause", "#actions button:text-is('Resume')");
  assert.equal(await text(page, "#sub-status"), "paused");
  assert.ok((await text(page, "#sub-paused")).length > 0);
  assert.equal(await text(page, "#up-none"), "No upcoming invoice.");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 380, "paused, it still fits 375 px");
  await shot(page, "dashboard-subscription-paused-375");
  await act("Resume", "#actions button:text-is('Pause')");
  assert.equal(await text(page, "#sub-status"), "active");
  assert.equal(await page.locator("#sub-paused").count(), 0);
  assert.equal(await text(page, "#up-effective"), "$75.00", "the prorations still wait for the next invoice");
  // The list has the status.
  await go(page, "#/subscriptions");
  const row = page.locator("main table tbody tr", { hasText: s.guid });
  assert.match(await row.innerText(), /active/);
  assert.ok((await page.locator("main table thead").innerText()).includes("Status"));
  assert.deepEqual(errors, []);
  await o.close();
});

test("an ended session sends the viewer back to sign-in with a message", async () => {
  const { page, close } = await signedIn();
  // The session lasts 8 hours of the company's clock: move the test clock past it.
  ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-03-01T20:00:01Z" }));
  await go(page, "#/customers");
  await page.locator("#signin").waitFor();
  assert.equal(await text(page, "#signin-message"), "Your session has ended. Sign in again.");
  await close();
});
