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

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping`);
  await mf.dispose();
  process.exit(0);
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
