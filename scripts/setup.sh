#!/usr/bin/env bash
# Installs what Billy Edge needs on a fresh machine, then builds pkg/ if the Rust sources changed.
# Idempotent: every step checks first and skips what is already there at the right version.
#   scripts/setup.sh              install + build
#   scripts/setup.sh --build-only build (installs still checked, they are cheap when present)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# 1. Rust toolchain (the machine image ships rustup; install it if a bare machine lacks it).
if ! command -v cargo >/dev/null 2>&1; then
  say "installing rustup (stable)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  export PATH="$HOME/.cargo/bin:$PATH"
fi

# 2. The wasm target.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 3. wasm-bindgen-cli at exactly the version in Cargo.lock (wasm-pack uses it only when it matches).
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  say "installing wasm-bindgen-cli $WB_VERSION (takes a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# 4. wasm-pack, pinned so every machine builds pkg/ the same way.
WASM_PACK_VERSION=0.15.1
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  say "installing wasm-pack $WASM_PACK_VERSION (takes a few minutes, once)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION"
fi

# 5. npm packages from the lockfile (binaryen's wasm-opt 132, miniflare/workerd, wrangler).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# 6. pkg/ — rebuilt only when Rust sources or the build configuration changed.
STAMP=$(cat Cargo.toml Cargo.lock .cargo/config.toml $(find src -type f | sort) | sha256sum | cut -c1-16)
if [ ! -f pkg/billy_edge_bg.wasm ] || [ "$(cat pkg/.stamp 2>/dev/null)" != "$STAMP" ]; then
  say "building pkg/ (wasm-pack build --target web --release)"
  command -v wasm-opt >/dev/null || { echo "wasm-opt missing (npm binaryen)"; exit 1; }
  wasm-pack build --target web --release --out-dir pkg --no-pack 2>&1 | grep -v '^\s*$' >&2
  echo "$STAMP" > pkg/.stamp
fi

# 7. The browser pages load the same core: a copy of pkg/ inside the static assets the worker serves.
if ! cmp -s pkg/billy_edge_bg.wasm www/static/pkg/billy_edge_bg.wasm 2>/dev/null \
   || ! cmp -s pkg/billy_edge.js www/static/pkg/billy_edge.js 2>/dev/null; then
  mkdir -p www/static/pkg
  cp pkg/billy_edge.js pkg/billy_edge_bg.wasm pkg/billy_edge.d.ts www/static/pkg/
fi
say "ready"
