// The Rust core loaded in Node, for tests that recompute what the worker stored (stored = the core's fold).
import { readFileSync } from "node:fs";
import { initSync } from "../../pkg/billy_edge.js";

initSync({ module: readFileSync(new URL("../../pkg/billy_edge_bg.wasm", import.meta.url)) });

export * from "../../pkg/billy_edge.js";
