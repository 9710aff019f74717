// @ts-check
// The one place the worker loads the Rust core. workerd hands us a compiled WebAssembly.Module for the
// `.wasm` import (Miniflare `CompiledWasm` rule, wrangler's default), so initialisation is synchronous.
import wasmModule from "../pkg/billy_edge_bg.wasm";
import { initSync } from "../pkg/billy_edge.js";

initSync({ module: wasmModule });

export * from "../pkg/billy_edge.js";
