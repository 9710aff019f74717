// The buyer pages in real headless Chromium: the checkout recomputes its split in the browser with the same wasm
// (no request per change) and agrees with the server; confirms succeed, fail clearly, or ask again when the split
// changed; the application page validates as the buyer types and shows the approved limit. Screenshots at 375 px and
// on a desktop go to tests/.output.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, newCompany, ok, startWorker } from "../js/harness.mjs";
import { launch, openPage, shot } from "./browser.mjs";

let w, browser;
before(async () => { [w, browser] = await Promise.all([startWorker(), launch()]); });
after(async () => { await browser?.close(); await w?.stop(); });

const SMALL = { years_in_business: "0", annual_revenue_band: "0-100k", employees_band: "1-10", industry_risk: "high" };

async function buyer(c, facts = SMALL) {
  const cu = ok(await c.api.post("/v1/customers", {}));
  if (facts) ok(await c.api.post(`/v1/customers/${cu.guid}/assessments`, facts));
  return cu;
}

const checkoutUrl = (ch) => `${w.base}/checkout/${ch.guid}#${ch.client_secret}`;
const text = (page, sel) => page.locator(sel).innerText();

test("checkout: the split is recomputed in the browser with no request; confirm shows the settled result", async () => {
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const cu = await buyer(c);
  const ch = ok(await c.api.postJson("/v1/checkouts", { customer_guid: cu.guid, terms_days: 30, adjustable_quantities: true,
    items: [{ name: "Oak desk", quantity: 2, unit_amount: 30000 }, { name: "Desk lamp", quantity: 3, unit_amount: 2500 }] }));
  const { page, requests, errors, close } = await openPage(browser, checkoutUrl(ch));
  await page.locator("#split").waitFor();
  assert.equal(await text(page, "#total"), "$675.00");
  assert.equal(await text(page, "#available"), "$500.00");
  assert.match(await text(page, "#terms-part"), /^\$500\.00/);
  assert.equal(await text(page, "#card-part"), "$175.00");
  await shot(page, "checkout-desktop");
  const before = requests.length;
  await page.selectOption("#terms", "15");
  assert.match(await text(page, "#split"), /On terms \(15 days\)/);
  assert.match(await text(page, "#split"), /due January 16, 2024/);
  await page.fill("#qty-0", "1");
  assert.equal(await text(page, "#total"), "$375.00");
  assert.equal(await page.locator("#card-part").count(), 0, "it all fits the credit now");
  assert.match(await text(page, "#terms-part"), /^\$375\.00/);
  await page.fill("#qty-0", "2");
  assert.equal(await text(page, "#card-part"), "$175.00");
  assert.equal(requests.length, before, "no request per change");
  assert.equal(await page.getAttribute("#split", "aria-live"), "polite");
  await page.fill("#card", CARD);
  await page.click("#confirm");
  await page.locator("#result").waitFor();
  assert.equal(await text(page, "#result"), "Thank you, your order is confirmed.");
  assert.match(await text(page, "#result-card"), /\$175\.00\s+paid/);
  assert.match(await text(page, "#result-terms"), /\$500\.00\s+open/);
  assert.deepEqual(errors, []);
  await close();
  const p = ok(await c.api.get(`/v1/customers/${cu.guid}/credit`));
  assert.equal(p.credit_used, 50000);
  // A phone-sized screenshot of a fresh checkout.
  const small = ok(await c.api.post("/v1/checkouts", { customer_guid: (await buyer(c)).guid, amount: "12000", terms_days: "30" }));
  const phone = await openPage(browser, checkoutUrl(small), 375);
  await phone.page.locator("#split").waitFor();
  const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scrolling at 375 px (${width})`);
  await shot(phone.page, "checkout-375");
  await phone.close();
});

test("server and browser agree: for a table of carts, limits and balances the page's split is the API's", async () => {
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const cases = [
    { total: 80000, facts: SMALL, balance: 0 },
    { total: 30000, facts: SMALL, balance: -1500 },
    { total: 50030, facts: SMALL, balance: 0 },
    { total: 50040, facts: SMALL, balance: -10 },
    { total: 9999, facts: null, balance: 0 },
    { total: 4000, facts: null, balance: -5000 },
    { total: 2500000, facts: { years_in_business: "20", annual_revenue_band: "10m+", employees_band: "500+", industry_risk: "low" }, balance: 700 },
  ];
  for (const k of cases) {
    const cu = await buyer(c, k.facts);
    if (k.balance) ok(await c.api.postJson("/v1/balance_transactions", { balance_transaction: { amount: k.balance, currency: "usd", customer: cu.guid } }));
    const ch = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: String(k.total), terms_days: "15" }));
    const { page, close } = await openPage(browser, checkoutUrl(ch));
    await page.locator("#split").waitFor();
    const computed = await page.evaluate(() => window.billy.compute());
    assert.deepEqual(computed, ch.allocation, JSON.stringify(k));
    await close();
  }
});

test("checkout: a declined card gets a clear message and the credit is released; a changed split is asked again", async () => {
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const cu = await buyer(c);
  const ch = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "70000", terms_days: "30" }));
  let { page, close } = await openPage(browser, checkoutUrl(ch));
  await page.locator("#split").waitFor();
  await page.fill("#card", "/v1/cards/hard_decline");
  await page.click("#confirm");
  await page.locator("#result").waitFor();
  assert.equal(await text(page, "#result"), "Your card was declined. Nothing was charged, and your credit is released.");
  await close();
  assert.equal(ok(await c.api.get(`/v1/customers/${cu.guid}/credit`)).credit_used, 0);

  // The page is open; meanwhile another checkout uses 300.00 of the credit; the confirm is asked again, not charged.
  const next = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "70000", terms_days: "30" }));
  ({ page, close } = await openPage(browser, checkoutUrl(next)));
  await page.locator("#split").waitFor();
  assert.equal(await text(page, "#card-part"), "$200.00");
  const other = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "30000", terms_days: "30" }));
  ok(await c.api.post(`/v1/checkouts/${other.guid}/confirm`, {}));
  await page.click("#confirm");
  await page.locator("#message .notice.warn").waitFor();
  assert.match(await text(page, "#message"), /changed since this page was opened/);
  assert.equal(await text(page, "#card-part"), "$500.00", "the new split is shown");
  assert.equal(ok(await c.api.get(`/v1/checkouts/${next.guid}`)).status, "open", "nothing was charged");
  await page.click("#confirm");
  await page.locator("#result").waitFor();
  assert.match(await text(page, "#result-card"), /\$500\.00/);
  await close();
});

test("checkout: an expired link and a wrong secret say so in plain words", async () => {
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const cu = await buyer(c);
  const ch = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "1000", terms_days: "15" }));
  let { page, close } = await openPage(browser, `${w.base}/checkout/${ch.guid}#${c.guid}_${"x".repeat(44)}`);
  await page.locator(".notice.error").waitFor();
  assert.match(await text(page, ".notice.error"), /no longer valid/);
  await close();
  ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-01-03T00:00:00Z" }));
  ({ page, close } = await openPage(browser, checkoutUrl(ch)));
  await page.locator(".notice.error").waitFor();
  assert.match(await text(page, ".notice.error"), /expired|no longer valid/);
  await close();
});

test("application: pre-filled fields, live validation with the core's rules, submit shows the limit in words", async () => {
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const cu = ok(await c.api.post("/v1/customers", {}));
  const app = ok(await c.api.post("/v1/applications", { customer_guid: cu.guid, legal_name: "Acme Supplies LLC",
    city: "Springfield", country: "US", contact_email: "ap@acme.example" }));
  const { page, errors, close } = await openPage(browser, `${w.base}${app.url}`, 375);
  await page.locator("#form").waitFor();
  assert.equal(await page.inputValue("#f-legal_name"), "Acme Supplies LLC");
  assert.equal(await page.inputValue("#f-city"), "Springfield");
  await page.fill("#f-years_in_business", "four");
  assert.match(await text(page, "#e-years_in_business"), /integer/);
  await page.fill("#f-years_in_business", "3");
  assert.equal(await text(page, "#e-years_in_business"), "");
  await page.fill("#f-contact_email", "ap-at-acme");
  await page.click("#submit");
  assert.equal(await text(page, "#e-address_line1"), "This field is required", "the first missing field, named");
  for (const [k, v] of [["address_line1", "1 Main St"], ["postal_code", "12345"], ["contact_name", "Jo Doe"]]) await page.fill(`#f-${k}`, v);
  await page.selectOption("#f-annual_revenue_band", "100k-1m");
  await page.selectOption("#f-employees_band", "1-10");
  await page.selectOption("#f-industry_risk", "medium");
  await page.click("#submit");
  assert.match(await text(page, "#e-contact_email"), /email address/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "f-contact_email", "focus goes to the field at fault");
  await shot(page, "apply-375");
  await page.fill("#f-contact_email", "ap@acme.example");
  await page.click("#submit");
  await page.locator("#result").waitFor();
  // 3 years, 100k–1m revenue, up to 10 people, medium risk: tier 4.
  assert.equal(await text(page, "#result"), "You can buy up to $2,000.00 on 30-day terms now; your limit grows as you pay on time.");
  assert.deepEqual(errors, []);
  await close();
  const desk = await openPage(browser, `${w.base}${ok(await c.api.post("/v1/applications", { customer_guid: cu.guid,
    legal_name: "Bolt & Nut Co", country: "GB" })).url}`);
  await desk.page.locator("#form").waitFor();
  await shot(desk.page, "apply-desktop");
  await desk.close();
  assert.equal(ok(await c.api.get(`/v1/customers/${cu.guid}/credit`)).risk_tier, 4);
});
