// The package's `install` step: build the optional native engine (node-gyp; needs a C++ compiler and
// libdnnl-dev, else fer runs on wasm and says so once). Skipped under `npx`/`npm exec`: npm exec installs
// the package whose command it runs into its cache and runs this script there. In a checkout that package is
// the checkout itself (libnpmexec links a local package that has the bin), so a cold first `npx fer …`
// rebuilt the addon for about a minute before answering; a user's one-off `npx fer-toolkit …` would compile too.
// `npm install`, `npm ci` and `npm rebuild` still build it.
import { spawnSync } from 'node:child_process';

if (process.env.npm_command === 'exec') {
  console.log('fer: native engine not built under npx (npm exec); `npm rebuild` in the package builds it');
  process.exit(0);
}
const r = spawnSync('npm', ['run', '-s', 'build:native'], { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(r.status ?? 1);
