// The Node host: runs the same worker in workerd through Miniflare, state on local disk.
//   PORT (8787), HOST (127.0.0.1), BILLY_DATA (./.billy-data)
import { Miniflare } from "miniflare";
import { miniflareOptions } from "./miniflare.mjs";

const started = performance.now();
const port = Number(process.env.PORT || 8787);
const host = process.env.HOST || "127.0.0.1";
const dataDir = process.env.BILLY_DATA || ".billy-data";

const mf = new Miniflare(miniflareOptions({ port, host, dataDir }));
const url = await mf.ready;
console.log(`Billy Edge listening on ${url.origin} (data in ${dataDir}, ready in ${Math.round(performance.now() - started)} ms)`);

// Ctrl-C / SIGTERM: Miniflare's own exit hook stops workerd and exits (130 / 143, the shell conventions).
// Ours runs first to say so, and disposes explicitly should a Miniflare version not install that hook.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.prependListener(signal, () => {
    console.log(`\n${signal}: stopping`);
    setImmediate(() => mf.dispose().finally(() => process.exit(0)));
  });
}
