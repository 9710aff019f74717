// `npm test`: every test suite, in order, then one summary line. Exits non-zero if any suite fails.
//   1. cargo test             native unit and property tests of the core (src/**)
//   2. wasm-pack test --node  the wasm boundary (tests/web.rs) on the real wasm build
//   3. node --test            the worker in workerd over real HTTP (tests/js/*.test.mjs)
//   4. billy-client           Billy's published Python client against the worker (tests/billy-client/)
//   5. browser                the pages in headless Debian Chromium (tests/browser/*.test.mjs)
//   6. fuzz                   `npm run fuzz --short`: Schemathesis over /openapi.json, ~2,000 cases, no 5xx allowed
//   7. crash                  `npm run crash --short`: the host SIGKILLed mid-billing 3 times, the books checked
//   8. soak                   `npm run soak --short`: 20 s of mixed load on the Node host, then the books and memory
//   9. bench                  `npm run bench --smoke`: the benchmark harness at tiny sizes, so it cannot rot
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./miniflare.mjs";

const env = { ...process.env, PATH: `${process.env.HOME}/.cargo/bin:${ROOT}/node_modules/.bin:${process.env.PATH}` };

function run(name, cmd, args) {
  return new Promise((resolve) => {
    console.log(`\n=== ${name}: ${cmd} ${args.join(" ")}`);
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const tee = (stream, sink) => stream.on("data", (d) => { out += d; sink.write(d); });
    tee(child.stdout, process.stdout);
    tee(child.stderr, process.stderr);
    child.on("close", (code) => resolve({ name, code, out }));
  });
}

/**
 * Counts from our own scripts' "checks: N passed, M failed" (fuzz cases, crash runs), cargo's "test result: ok.
 * N passed; M failed" lines, node's "# pass N" / "# fail N", and Python
 * unittest's "Ran N tests" followed by "OK" or "FAILED (failures=a, errors=b)".
 */
function counts(out) {
  let passed = 0, failed = 0;
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) { passed += +m[1]; failed += +m[2]; }
  for (const m of out.matchAll(/^# pass (\d+)$/gm)) passed += +m[1];
  for (const m of out.matchAll(/^checks: (\d+) passed, (\d+) failed$/gm)) { passed += +m[1]; failed += +m[2]; }
  for (const m of out.matchAll(/^# fail (\d+)$/gm)) failed += +m[1];
  for (const m of out.matchAll(/^Ran (\d+) tests? in [\d.]+s\n\n(OK|FAILED \(([^)]*)\))/gm)) {
    const bad = [...(m[3] || "").matchAll(/(?:failures|errors)=(\d+)/g)].reduce((n, x) => n + +x[1], 0);
    passed += +m[1] - bad; failed += bad;
  }
  return { passed, failed };
}

const only = process.argv[2];
const jsTests = readdirSync(path.join(ROOT, "tests/js")).filter((f) => f.endsWith(".test.mjs")).sort()
  .map((f) => path.join("tests/js", f));
const suites = [
  ["rust", "cargo", ["test", "--quiet"]],
  ["wasm", "wasm-pack", ["test", "--node"]],
  ["worker", "node", ["--test", "--test-concurrency=1", ...jsTests]],
  ["client", "node", ["tests/billy-client/run.mjs"]],
  ["browser", "bash", ["-c", "bash tests/browser/setup.sh && node --test --test-concurrency=1 tests/browser/*.test.mjs"]],
  ["fuzz", "node", ["scripts/fuzz.mjs", "--short"]],
  ["crash", "node", ["scripts/crash.mjs", "--short"]],
  ["soak", "node", ["scripts/soak.mjs", "--short"]],
  ["bench", "node", ["scripts/bench.mjs", "--smoke"]],
].filter(([name]) => !only || only === name);

const results = [];
for (const [name, cmd, args] of suites) results.push(await run(name, cmd, args));

let passed = 0, failed = 0;
console.log("\n=== summary");
for (const r of results) {
  const c = counts(r.out);
  passed += c.passed; failed += c.failed;
  const ok = r.code === 0;
  if (!ok && c.failed === 0) failed += 1; // a suite that crashed counts as a failure even with no counts
  console.log(`${ok ? "ok  " : "FAIL"} ${r.name.padEnd(7)} ${c.passed} passed, ${c.failed} failed (exit ${r.code})`);
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
