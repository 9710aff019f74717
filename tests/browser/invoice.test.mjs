// The hosted invoice page (/i/<token>) in real headless Chromium: it shows the merchant, the items, the adjustments
// and the total formatted by the wasm core; a declined card is said in plain words and the invoice is `failed`, as the
// API says; paying again with another card settles it, as the API says; the page's token reads no other invoice; a
// terms invoice shows its due date and no pay form; printing hides the form and the buttons; it fits 375 px.
// Screenshots at 375 px and on a desktop go to tests/.output; UPDATE_DOCS_SCREENSHOTS=1 also writes
// docs/hosted-invoice.png (the README's, committed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { call, newCompany, ok, startWorker } from "../js/harness.mjs";
import { launch, openPage, shot } from "./browser.mjs";

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs");

let w, browser;
before(async () => { [w, browser] = await Promise.all([startWorker(), launch()]); });
after(async () => { await browser?.close(); await w?.stop(); });

const text = (page, sel) => page.locator(sel).innerText();

test("hosted invoice: a declined card in plain words, paid with another card, the same as the API says", async () => {
  const c = await newCompany(w.base, { clock: "2024-03-01T09:00:00Z", name: "Northwind Office Supply" });
  ok(await c.api.post("/v1/coupons", { code: "SPRING10", percent_off: "10", duration: "once" }));
  const cu = ok(await c.api.post("/v1/customers", {}));
  const inv = ok(await c.api.postJson("/v1/invoices", { customer_guid: cu.guid, amount: 48000, title: "March order",
    items: [{ name: "Oak desk", amount: 36000, quantity: 1 }, { name: "Desk lamp", amount: 7500, quantity: 3 },
      { name: "Setup", amount: 4500, quantity: 3, unit: "hour" }],
    adjustments: [{ amount: -2000, reason: "Unused time on your previous plan" }], coupon: "SPRING10" }));
  const other = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "900" }));
  const { page, requests, errors, close } = await openPage(browser, w.base + inv.hosted_invoice_url);
  await page.locator("#invoice-status").waitFor();
  assert.equal(await text(page, "h1"), "Invoice from Northwind Office Supply");
  assert.equal(await text(page, "#merchant"), "Northwind Office Supply");
  assert.equal(await page.getAttribute("#invoice-status", "data-status"), "staged");
  assert.match(await text(page, "#items tbody"), /Oak desk\s+1\s+\$360\.00/);
  assert.match(await text(page, "#items tbody"), /Setup\s+hour\s+3\s+\$45\.00/);
  assert.match(await text(page, "#items tfoot"), /Unused time on your previous plan\s+-\$20\.00/);
  assert.match(await text(page, "#items tfoot"), /coupon SPRING10\s+-\$48\.00/);
  assert.equal(await text(page, "#total"), "$412.00");
  assert.equal(await text(page, "#amount-due"), "$412.00");
  assert.equal(await text(page, "#pay"), "Pay $412.00");
  // Accessible: a labelled card field, headings, a polite live region for the status.
  assert.equal(await page.locator("label[for=card]").count(), 1);
  assert.equal(await page.getAttribute("#status", "aria-live"), "polite");
  assert.ok((await page.locator("h2").count()) >= 3);
  await shot(page, "invoice-desktop");
  if (process.env.UPDATE_DOCS_SCREENSHOTS) await page.screenshot({ path: path.join(DOCS, "hosted-invoice.png"), fullPage: true });

  // Print: a clean invoice, no form and no buttons.
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.locator("#pay-form").isVisible(), false);
  assert.equal(await page.locator("#print").isVisible(), false);
  assert.equal(await page.locator("#items").isVisible(), true);
  await shot(page, "invoice-print");
  await page.emulateMedia({ media: "screen" });

  // A declined card: said plainly; the invoice is failed, here and in the API.
  await page.fill("#card", "/v1/cards/hard_decline");
  await page.click("#pay");
  await page.locator("#invoice-status[data-status=failed]").waitFor();
  assert.equal(await text(page, "#result"), "Your card was declined. Nothing was charged. You can pay with another card.");
  assert.equal(await page.getAttribute("#result", "role"), "alert");
  assert.equal(await text(page, "#invoice-status"), "Payment failed");
  assert.equal(ok(await c.api.get(`/v1/invoices/${inv.guid}`)).status, "failed");
  assert.match(await text(page, "#payments"), /Payment\s+Failed\s+\$412\.00/);

  // Another card: settled, here and in the API.
  await page.fill("#card", "/v1/cards/ok");
  await page.click("#pay");
  await page.locator("#invoice-status[data-status=settled]").waitFor();
  assert.equal(await text(page, "#result"), "Thank you, this invoice is paid.");
  const api = ok(await c.api.get(`/v1/invoices/${inv.guid}`));
  assert.deepEqual([api.status, api.funding_instrument_uri], ["settled", "/v1/cards/ok"]);
  assert.equal(await page.locator("#pay-form").count(), 0, "nothing left to pay");
  assert.equal(await page.locator("#payments li").count(), 2);
  assert.match(await text(page, "#payments li:last-child"), /Payment\s+Succeeded\s+\$412\.00/);
  await shot(page, "invoice-paid-desktop");

  // The page's token reads this invoice only: not another invoice, not the API with it as a key.
  const token = inv.hosted_invoice_url.slice(3);
  const [co, , mac] = token.split(".");
  const probes = await page.evaluate(async ([co, mac, otherGuid, token]) => Promise.all([
    fetch(`/v1/hosted_invoices/${co}.${otherGuid}.${mac}`).then((r) => r.status),
    fetch(`/v1/hosted_invoices/${co}.${otherGuid}.${mac}/pay`, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ funding_instrument_uri: "/v1/cards/ok" }) }).then((r) => r.status),
    fetch(`/v1/invoices/${otherGuid}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status),
    fetch("/v1/invoices", { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status),
  ]), [co, mac, other.guid, token]);
  assert.deepEqual(probes, [404, 404, 401, 401]);
  assert.equal(ok(await c.api.get(`/v1/invoices/${other.guid}`)).status, "staged", "the other invoice is untouched");
  assert.ok(requests.every((u) => u.startsWith(w.base)), "no request leaves the origin (no CDN, no fonts)");
  assert.deepEqual(errors, []);
  await close();

  // A forged token: the page says so.
  const forged = await openPage(browser, `${w.base}/i/${co}.${other.guid}.${mac}`);
  await forged.page.locator("[role=alert]").waitFor();
  assert.match(await text(forged.page, "[role=alert]"), /could not be found/);
  await forged.close();
});

test("hosted invoice: a terms invoice shows its due date and no pay form; 375 px without horizontal scrolling", async () => {
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z", name: "Acme Wholesale" });
  const cu = ok(await c.api.post("/v1/customers", {}));
  ok(await c.api.post(`/v1/customers/${cu.guid}/assessments`, { years_in_business: "0", annual_revenue_band: "0-100k",
    employees_band: "1-10", industry_risk: "high" }));
  const ch = ok(await c.api.postJson("/v1/checkouts", { customer_guid: cu.guid, terms_days: 30,
    items: [{ name: "Pallet of paper", quantity: 2, unit_amount: 15000 }] }));
  const conf = ok(await c.api.post(`/v1/checkouts/${ch.guid}/confirm`, {}));
  const inv = ok(await c.api.get(`/v1/invoices/${conf.invoice_guid}`));
  const phone = await openPage(browser, w.base + inv.hosted_invoice_url, 375);
  await phone.page.locator("#invoice-status").waitFor();
  assert.equal(await text(phone.page, "#due-date"), "January 31, 2024");
  assert.equal(await phone.page.getAttribute("#invoice-status", "data-status"), "open");
  assert.equal(await phone.page.locator("#pay-form").count(), 0, "terms invoices are paid by transfer or at their due date");
  assert.match(await text(phone.page, "#items tbody"), /Pallet of paper\s+2\s+\$300\.00/);
  const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scrolling at 375 px (${width})`);
  await shot(phone.page, "invoice-terms-375");
  await phone.close();

  // A payable invoice at 375 px, form and all.
  const open = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "12500", title: "Delivery",
    item_name0: "Freight", item_amount0: "12500" }));
  const small = await openPage(browser, w.base + open.hosted_invoice_url, 375);
  await small.page.locator("#pay").waitFor();
  const w2 = await small.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w2 <= 375, `no horizontal scrolling at 375 px (${w2})`);
  await shot(small.page, "invoice-375");
  assert.deepEqual(small.errors, []);
  await small.close();
  // The API agrees with what the page showed.
  const h = ok(await call(w.base, "GET", `/v1/hosted_invoices/${open.hosted_invoice_url.slice(3)}`));
  assert.deepEqual([h.company_name, h.status, h.payable], ["Acme Wholesale", "staged", true]);
});
