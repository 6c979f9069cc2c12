#!/usr/bin/env bash
# Builds native/wasm/fer-kernels.wasm from kernels.c (clang ≥ 14 with the wasm32 target, and wasm-ld:
# Debian's `clang lld`). The binary is committed, so users need neither. The module imports tfjs-backend-
# wasm's memory, so it must own nothing in it: the check below fails the build on a data segment or a
# use of the shadow stack.
set -euo pipefail
cd "$(dirname "$0")"
clang --target=wasm32 -O3 -msimd128 -mbulk-memory -ffreestanding -nostdlib -fno-builtin \
  -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all -Wl,-z,stack-size=0 \
  -o fer-kernels.wasm kernels.c
if command -v llvm-objdump >/dev/null && llvm-objdump -d fer-kernels.wasm | grep -q "global\\."; then
  echo "fer-kernels.wasm uses a global (the shadow stack): it would write into tfjs memory" >&2; exit 1
fi
node --input-type=module -e "
const bytes = (await import('node:fs')).readFileSync('fer-kernels.wasm');
const mod = new WebAssembly.Module(bytes);
// Section ids: 11 = data. Walk the section headers.
let p = 8, data = false;
const leb = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r |= (b & 127) << s; s += 7; } while (b & 128); return r; };
while (p < bytes.length) { const id = bytes[p++]; const size = leb(); if (id === 11) data = true; p += size; }
if (data) { console.error('fer-kernels.wasm has a data segment: it would overwrite tfjs memory'); process.exit(1); }
const imports = WebAssembly.Module.imports(mod).map((i) => i.module + '.' + i.name);
if (imports.join() !== 'env.memory') { console.error('unexpected imports: ' + imports); process.exit(1); }
console.log('fer-kernels.wasm: ' + bytes.length + ' bytes, exports ' + WebAssembly.Module.exports(mod).map((e) => e.name).join(' '));
"
