// Headless Debian Chromium through playwright-core, with the flags this closed network needs; screenshots go to
// tests/.output (git-ignored).
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const OUTPUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../.output");

export async function launch() {
  mkdirSync(OUTPUT, { recursive: true });
  return chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-quic"] });
}

/** A page at `width` (375 for a phone, 1280 for a desktop) that records every request it makes. */
export async function openPage(browser, url, width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: width < 600 ? 812 : 900 } });
  const page = await context.newPage();
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, requests, errors, close: () => context.close() };
}

export const shot = (page, name) => page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
