#!/usr/bin/env bash
# Rebuilds bmm.wasm from bmm.c (needs Debian's clang and lld: apt-get install clang lld). The .wasm is
# committed so installs need no compiler; rebuild only when bmm.c changes.
set -euo pipefail
cd "$(dirname "$0")"
clang --target=wasm32 -O3 -msimd128 -nostdlib -fno-builtin \
  -Wl,--no-entry -Wl,--export-dynamic -Wl,--initial-memory=1048576 \
  -o bmm.wasm bmm.c
ls -l bmm.wasm
