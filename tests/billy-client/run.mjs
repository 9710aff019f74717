// The billy-client compatibility suite: prepares the client (setup.sh), starts the worker in workerd over real
// HTTP, and runs test_billy_client.py against it with the client's own code. Exit code = unittest's.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startWorker } from "../js/harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const setup = spawnSync("bash", [path.join(here, "setup.sh")], { stdio: "inherit" });
if (setup.status !== 0) process.exit(setup.status ?? 1);

const worker = await startWorker();
const env = { ...process.env, BILLY_URL: worker.base,
  PYTHONPATH: path.join(root, "tests/.tmp/billy-client") + path.delimiter + here };
const child = spawn(path.join(root, "tests/.tmp/billy-client/venv/bin/python"),
  ["-m", "unittest", "-v", "test_billy_client"], { cwd: here, env, stdio: "inherit" });
const code = await new Promise((resolve) => child.on("close", resolve));
await worker.stop();
process.exit(code ?? 1);
