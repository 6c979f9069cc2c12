#!/usr/bin/env bash
# Compiles scripts/strict-consumer/consumer.ts (tsc --strict, skipLibCheck: false) against fer-toolkit's
# declarations. With a directory argument: a project where the packed tarball is installed (check-package.sh
# passes its own). Without: standalone and quick, against this checkout's dist/ (run `npm run build` first),
# linked in as node_modules/fer-toolkit, so its dependencies resolve from the checkout's node_modules.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [ $# -ge 1 ]; then
  project=$(cd "$1" && pwd)
else
  [ -f "$repo/dist/index.d.ts" ] || { echo "strict-consumer: no dist/index.d.ts (run npm run build)" >&2; exit 1; }
  project=$(mktemp -d)
  trap 'rm -rf "$project"' EXIT
  mkdir -p "$project/node_modules"
  ln -s "$repo" "$project/node_modules/fer-toolkit"
  printf '{ "name": "fer-strict-consumer", "private": true, "type": "module" }\n' > "$project/package.json"
fi
dir="$project/strict-consumer"
mkdir -p "$dir" "$project/node_modules/@types"
cp "$here/consumer.ts" "$here/tsconfig.json" "$dir/"
# Node's types (a dev dependency here, not installed with the package) and what they import.
[ -d "$project/node_modules/@types/node" ] || cp -r "$repo/node_modules/@types/node" "$project/node_modules/@types/"
[ -d "$project/node_modules/undici-types" ] || cp -r "$repo/node_modules/undici-types" "$project/node_modules/"
"$repo/node_modules/.bin/tsc" -p "$dir/tsconfig.json"
echo "strict-consumer: 'fer-toolkit' compiles for a strict consumer (skipLibCheck: false)"
