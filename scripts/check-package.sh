#!/usr/bin/env bash
# The package as a user gets it: `npm pack`, install the tarball into an empty project (onnxruntime-node's
# CUDA download skipped, as an offline user would), then run the README's library example under plain
# node, the installed CLI (`fer --help`, `fer predict`), and TypeScript consumers of its types (one strict with
# skipLibCheck: false: scripts/strict-consumer, which also runs alone against dist/ without packing).
# Prints the tarball size and the installed `fer --help` start-up time.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$repo"
tarball=$(npm pack --silent --pack-destination "$work" | tail -1)
echo "check-package: $tarball, $(du -k "$work/$tarball" | cut -f1) KiB"
cd "$work"
printf '{ "name": "fer-consumer", "private": true, "type": "module" }\n' > package.json
# Installed as on a machine with only Node and npm: oneDNN, dlib, libgomp, ocl-icd, oneDNN's headers and the
# compilers hidden from the install and from the native checks below (scripts/build-prebuilt-check.sh), with the install scripts'
# output shown (--foreground-scripts) and required to be silent: no compiler error, no fallback note.
. "$repo/scripts/build-prebuilt-check.sh"
start=$(date +%s%N)
bare env ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error --foreground-scripts "./$tarball" > install.out 2>&1 \
  || { cat install.out >&2; exit 1; }
end=$(date +%s%N)
echo "check-package: installed in $(( (end - start) / 1000000 )) ms ($bare_mode)"
if grep -v -E '^(> |$|added [0-9]+ packages)' install.out | grep -q .; then
  echo "check-package: the install printed:" >&2; cat install.out >&2; exit 1
fi
cp "$repo/examples/classify.mjs" "$repo/examples/consumer.ts" "$repo/examples/tsconfig.json" .
photo=node_modules/fer-toolkit/fixtures/scenes/two-faces.jpg
node classify.mjs "$photo" | tee classify.out
grep -q "2 face(s)" classify.out
help_err=$(npx --no-install fer --help 2>&1 >/dev/null)
[ -z "$help_err" ] || { echo "check-package: fer --help wrote to stderr: $help_err" >&2; exit 1; }
start=$(date +%s%N); npx --no-install fer --help >/dev/null; end=$(date +%s%N)
echo "check-package: installed fer --help in $(( (end - start) / 1000000 )) ms"
npx --no-install fer predict "$photo" --json > predict.out
[ "$(grep -o '"emotion"' predict.out | wc -l)" = 2 ]
# The browser side: the installed CLI writes the web page (its prebuilt script), and `fer-toolkit/web` bundles for
# the browser with no Node built-in (esbuild fails on one with --platform=browser).
npx --no-install fer export web --out site > web.out
grep -q "app.js" web.out && [ -s site/app.js ] && [ -s site/ort-wasm-simd-threaded.wasm ] && [ -s site/ort-wasm-simd-threaded.asyncify.wasm ]
printf "import { createPredictor } from 'fer-toolkit/web';\nconsole.log(typeof createPredictor);\n" > web-entry.mjs
"$repo/node_modules/.bin/esbuild" web-entry.mjs --bundle --platform=browser --format=esm --external:onnxruntime-web/wasm --external:onnxruntime-web/webgpu --log-level=error --outfile=web-bundle.js
echo "check-package: fer export web ok; fer-toolkit/web bundles for the browser ($(du -k web-bundle.js | cut -f1) KiB without onnxruntime-web)"
# The root name too, through the exports map's `browser` condition (a browser bundler gets the web entry).
printf "import { createPredictor } from 'fer-toolkit';\nconsole.log(typeof createPredictor);\n" > root-entry.mjs
"$repo/node_modules/.bin/esbuild" root-entry.mjs --bundle --platform=browser --format=esm --external:onnxruntime-web/wasm --external:onnxruntime-web/webgpu --log-level=error --outfile=root-bundle.js
grep -q '^// .*/dist/web/browser/predictor.js$' root-bundle.js && ! grep -q '^// .*/dist/predict/predictor.js$' root-bundle.js \
  || { echo "check-package: 'fer-toolkit' for the browser did not resolve to the web entry" >&2; exit 1; }
echo "check-package: 'fer-toolkit' resolves to the web entry for the browser (exports condition)"
mkdir -p node_modules/@types && cp -r "$repo/node_modules/@types/node" node_modules/@types/
"$repo/node_modules/.bin/tsc" -p tsconfig.json
# A strict consumer with skipLibCheck: false (tfjs-layers' .d.ts would fail it if the root entry loaded them).
bash "$repo/scripts/strict-consumer/check.sh" "$work"
native_check
echo "check-package: ok"
