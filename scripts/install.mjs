// The package's `install` step. Installed as a dependency on linux-x64 with glibc >= 2.34, the package ships a
// prebuilt native addon (native/prebuilds/linux-x64: the engine with oneDNN beside it, and dlib's detector; built by
// scripts/build-prebuilt.sh at pack time) that fer finds at run time (src/engine/native/locate.ts): this step then
// only checks that it loads and prints nothing, and the package works the same where install scripts are skipped
// (pnpm, Bun, --ignore-scripts). Elsewhere, in a checkout (`npm ci` builds from the sources there), or with
// `--build-from-source`, it builds the optional native engine with node-gyp (needs a C++ compiler and oneDNN's
// headers: libdnnl-dev); where those are missing it says so in one line rather than show a compiler error, and
// fer trains on wasm.
// Skipped under `npx`/`npm exec`: npm exec installs the package whose command it runs into its cache and runs
// this script there. In a checkout that package is the checkout itself (libnpmexec links a local package that has
// the bin), so a cold first `npx fer …` rebuilt the addon for about a minute before answering.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

if (process.env.npm_command === 'exec') {
  console.log('fer: native engine not built under npx (npm exec); `npm rebuild` in the package builds it');
  process.exit(0);
}

const fromSource = ['true', '1'].includes(process.env.npm_config_build_from_source ?? 'no') || !!process.env.FER_BUILD_FROM_SOURCE;
const installed = process.cwd().split(path.sep).includes('node_modules');

function prebuiltLoads() {
  if (`${process.platform}-${process.arch}` !== 'linux-x64') return false;
  const glibc = process.report?.getReport().header?.glibcVersionRuntime;
  const [major, minor] = (glibc ?? '0.0').split('.').map(Number);
  if (major < 2 || (major === 2 && minor < 34)) return false;
  const file = path.resolve('native', 'prebuilds', 'linux-x64', 'fer_native.node');
  if (!existsSync(file)) return false;
  try {
    createRequire(import.meta.url)(file);
    return true;
  } catch (e) {
    console.log(`fer: the prebuilt native engine does not load here (${e.message.split('\n')[0]}); building from source`);
    return false;
  }
}

if (installed && !fromSource && prebuiltLoads()) process.exit(0);

const includeDirs = ['/usr/include', '/usr/local/include', '/opt/homebrew/include'];
const hasDnnl = includeDirs.some((d) => existsSync(path.join(d, 'oneapi', 'dnnl', 'dnnl.hpp')));
const onPath = (cmd) => (process.env.PATH ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, cmd)));
const hasCompiler = process.platform === 'win32' || ['c++', 'g++', 'clang++'].some(onPath);
const hasMake = process.platform === 'win32' || onPath('make');
if (!hasDnnl || !hasCompiler || !hasMake) {
  const missing = [!hasCompiler && 'a C++ compiler', !hasMake && 'make', !hasDnnl && "oneDNN's headers (libdnnl-dev)"].filter(Boolean);
  const why = fromSource
    ? 'a build from source was asked for'
    : installed
      ? `no prebuilt binary fits ${process.platform}-${process.arch}`
      : 'a checkout builds from source';
  console.log(`fer: native engine not built (${why}, and ${missing.join(', ')} missing); training uses wasm`);
  process.exit(0);
}
const r = spawnSync('npm', ['run', '-s', 'build:native'], { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(r.status ?? 1);
