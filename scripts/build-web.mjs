// The page script of `fer export web`, prebuilt for the package (dist/web/app.js): in an installed fer there
// is no src/ to bundle from. A checkout bundles src/web/browser/app.ts on the fly instead (src/web/site.ts).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/web/browser/app.ts'],
  outfile: 'dist/web/app.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  external: ['onnxruntime-web/wasm', 'onnxruntime-web/webgpu'], // index.html's import map (src/web/site.ts ORT_IMPORTS)
  legalComments: 'none',
  logLevel: 'warning',
});
