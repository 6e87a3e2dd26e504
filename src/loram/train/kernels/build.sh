#!/usr/bin/env bash
# Rebuilds adamw.wasm from adamw.c (needs Debian's clang and lld: apt-get install clang lld). The .wasm is
# committed so installs need no compiler; rebuild only when adamw.c changes. The memory is imported: each
# optimizer slab (wasm-adamw.ts) instantiates the module over a memory sized for its tensors.
set -euo pipefail
cd "$(dirname "$0")"
clang --target=wasm32 -O3 -msimd128 -nostdlib -fno-builtin \
  -Wl,--no-entry -Wl,--export-dynamic -Wl,--import-memory -Wl,--stack-first -Wl,-z,stack-size=65536 \
  -o adamw.wasm adamw.c
ls -l adamw.wasm
