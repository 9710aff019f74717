// The Node host (`node scripts/host.mjs`, what `npm start` runs) as a child process in its own process group, for
// the scripts that kill it (crash) or watch it (soak): its origin, a SIGKILL of the whole group (workerd included),
// and the group's resident memory.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./miniflare.mjs";

/**
 * Starts the host on a free port with `env` added to this process's environment.
 * @returns {Promise<{ origin: string, child: import("node:child_process").ChildProcess, kill: () => Promise<void> }>}
 */
export async function startHost(env) {
  const child = spawn(process.execPath, [path.join(ROOT, "scripts/host.mjs")], { cwd: ROOT, detached: true,
    env: { ...process.env, PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr.on("data", (d) => { out = (out + d).slice(-20_000); });
  const origin = await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out = (out + d).slice(-20_000);
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`host exited (${code}) before listening:\n${out}`)));
  });
  const exited = new Promise((r) => child.on("exit", r));
  /** SIGKILL to the process group: no handler runs, nothing is flushed, workerd dies with it. */
  const kill = async () => {
    try { process.kill(-(/** @type {number} */ (child.pid)), "SIGKILL"); } catch { /* already gone */ }
    await exited;
  };
  return { origin, child, kill, log: () => out };
}

/** Resident memory of every process in the group `pgid` (the host and its workerd), in MB; Linux /proc. */
export function groupRssMb(pgid) {
  let kb = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // state ppid pgrp …
      if (Number(fields[2]) !== pgid) continue;
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] || 0);
    } catch { /* the process ended meanwhile */ }
  }
  return Math.round(kb / 1024);
}
