#!/bin/sh
# Rebuilds src/test/resources/guest/guest.wasm from guest.c.
# Needs: apt-get install clang lld (clang 14 on Debian 12 works).
set -eu
cd "$(dirname "$0")"
clang --target=wasm32 -O2 -nostdlib -mbulk-memory \
    -Wl,--no-entry -Wl,--initial-memory=131072 -Wl,--max-memory=2097152 \
    -o ../resources/guest/guest.wasm guest.c
