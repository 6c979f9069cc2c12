/**
 * `fer export web` and `fer serve`: a self-contained static folder (index.html, the page's script, the
 * classifier and face nets as ONNX, onnxruntime-web's wasm) that any static host serves, and a small
 * localhost server for trying it (cross-origin isolated, so onnxruntime-web may use threads).
 */
import { existsSync, readFileSync, realpathSync, statSync, readdirSync } from 'node:fs';
import { checkOutputFile, writeOutput } from '../io/output.js';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ModelError, UsageError } from '../errors.js';
import { packagePath, packageVersion } from '../paths.js';
import { DEFAULT_ONNX, SAMPLE_DATA } from '../model/default.js';
import { loadDataset } from '../data/dataset.js';
import { exportOnnx } from '../convert/export.js';
import { inspectOnnx } from '../onnx/inspect.js';
import { readOnnxFile } from '../onnx/validate.js';
import { PREPROCESS } from '../data/augment.js';
import { faceApi, landmarkParams } from '../detect/face-api.js';
import { LANDMARK_INPUT, landmarkNetOnnx, tinyDetectorOnnx, type TinyDetectorParams } from '../detect/onnx-nets.js';
import { faceMeshOnnx } from '../detect/onnx-mesh.js';
import { readFaceMesh } from '../detect/mesh-files.js';
import type { WebConfig } from './browser/predictor.js';
import { makeDirs } from '../io/make-dirs.js';

const require = createRequire(import.meta.url);

/** The tiny detector's input side in the page (face-api's default; 320 is faster and misses small faces). */
export const WEB_DETECTOR_INPUT = 416;

/**
 * onnxruntime-web's files the page may load: the wasm-only build (API module, glue, SIMD+threads binary) and
 * the WebGPU build (the same three). The predictor imports one of them (WebGPU where the browser has an
 * adapter), so a browser fetches one binary.
 */
const ORT_FILES = [
  'ort.wasm.min.mjs',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort.webgpu.min.mjs',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];
/** The page script's imports of onnxruntime-web, resolved by index.html's import map to the files above. */
export const ORT_IMPORTS = { 'onnxruntime-web/wasm': './ort.wasm.min.mjs', 'onnxruntime-web/webgpu': './ort.webgpu.min.mjs' };

export interface WebExportResult {
  dir: string;
  files: { name: string; bytes: number }[];
  bytes: number;
  classes: string[];
}

/** The page's script: prebuilt in an installed package (dist/web/app.js), bundled with esbuild in a checkout. */
export async function pageScript(): Promise<string> {
  const src = packagePath('src/web/browser/app.ts');
  if (existsSync(src)) {
    const esbuild = await import('esbuild').catch(() => null); // a dev dependency: present in a checkout
    if (esbuild) {
      const r = await esbuild.build({
        entryPoints: [src],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2020',
        minify: true,
        external: Object.keys(ORT_IMPORTS),
        write: false,
        legalComments: 'none',
      });
      return r.outputFiles[0].text;
    }
  }
  const built = packagePath('dist/web/app.js');
  if (!existsSync(built)) throw new UsageError('export web: the page script is not built (run `npm run build`)');
  return readFileSync(built, 'utf8');
}

export function indexHtml(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify({ imports: ORT_IMPORTS })}</script>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #111; color: #eee; }
  header { padding: 10px 16px; background: #1c1c1c; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 17px; margin: 0; }
  main { display: flex; gap: 16px; padding: 16px; flex-wrap: wrap; }
  canvas { max-width: min(100%, 800px); background: #000; border-radius: 4px; }
  #bars { min-width: 260px; }
  .face { margin-bottom: 12px; }
  .bar { display: grid; grid-template-columns: 70px 1fr 40px; gap: 6px; align-items: center; font-size: 13px; }
  .bar i { display: block; height: 10px; background: #ffdd00; border-radius: 2px; }
  .bar em { font-style: normal; text-align: right; color: #aaa; }
  .muted { color: #888; }
  .error { color: #ff6b6b; }
  #fer-result { font-size: 11px; color: #777; white-space: pre-wrap; word-break: break-all; max-height: 120px; overflow: auto; padding: 0 16px; }
  button, label.file { background: #333; color: #eee; border: 1px solid #555; border-radius: 4px; padding: 4px 10px; cursor: pointer; }
  input[type=file] { display: none; }
</style>
</head>
<body>
<header>
  <h1>fer · facial emotion recognition, in this browser</h1>
  <button id="camera">camera</button>
  <label class="file">photo or video…<input id="file" type="file" accept="image/*,video/*"></label>
  <span id="status" class="muted">loading…</span>
  <span id="provider" class="muted"></span>
</header>
<main>
  <canvas id="view" width="640" height="480"></canvas>
  <div id="bars"></div>
</main>
<pre id="fer-result"></pre>
<script type="module" src="./app.js"></script>
<script>
  // Opened from the disk (file://) the browser refuses to load the page's module and models: say how to serve it.
  if (location.protocol === 'file:') {
    const s = document.getElementById('status');
    s.className = 'error';
    s.textContent = 'open this page through a web server: npx fer serve <this folder> (browsers do not load its script and models from file://)';
  }
</script>
</body>
</html>
`;
}

/**
 * Writes the site into `out`: the classifier (`model`, an .onnx file, or a fer model exported first to
 * `out`/classifier.onnx in fp32, verified on the bundled sample; default the shipped fp32 export), the tiny face detector and the 68-point landmark net converted from face-api's packaged weights, fer-web.json,
 * onnxruntime-web's wasm files, index.html and app.js.
 */
export async function exportWeb(out: string, model = DEFAULT_ONNX): Promise<WebExportResult> {
  if (!model.endsWith('.onnx')) {
    const sample = await loadDataset(SAMPLE_DATA);
    const file = path.join(out, 'classifier.onnx');
    await exportOnnx(model, file, { version: packageVersion(), sample }); // fp32 NHWC, verified: the schema's defaults
    model = file;
  }
  if (!model.endsWith('.onnx') || !existsSync(model))
    throw new UsageError(`export web: --model must be an .onnx file (fer export onnx writes one): ${model}`);
  if (readOnnxFile(model).external.length > 0) {
    throw new ModelError(`export web: ${model} keeps its weights in external data files; the page loads one .onnx file`, {
      hint: 'export the model as a single file (fer export onnx writes one)',
    });
  }
  const info = inspectOnnx(model);
  makeDirs(out);
  const fa = await faceApi();
  const files: Record<string, Uint8Array | string> = {
    'classifier.onnx': readFileSync(model),
    'tiny-face-detector.onnx': tinyDetectorOnnx(fa.nets.tinyFaceDetector.params as unknown as TinyDetectorParams, WEB_DETECTOR_INPUT),
    'landmarks-68.onnx': landmarkNetOnnx(landmarkParams(fa)),
    'face-mesh.onnx': faceMeshOnnx(readFaceMesh()),
  };
  let preprocess: WebConfig['preprocess'] = { ...PREPROCESS };
  try {
    const p = JSON.parse(info.metadata.preprocess ?? '{}') as Partial<WebConfig['preprocess']>;
    if (typeof p.scale === 'number' && typeof p.offset === 'number') preprocess = { scale: p.scale, offset: p.offset };
  } catch {
    // a model from elsewhere: fer's preprocessing
  }
  const config: WebConfig = {
    classes: info.classes,
    preprocess,
    layout: info.layout,
    models: { classifier: 'classifier.onnx', detector: 'tiny-face-detector.onnx', landmarks: 'landmarks-68.onnx', mesh: 'face-mesh.onnx' },
    detector: { inputSize: WEB_DETECTOR_INPUT, anchors: fa.nets.tinyFaceDetector.anchors.map((a) => ({ x: a.x, y: a.y })) },
    landmarkInput: LANDMARK_INPUT,
  };
  files['fer-web.json'] = JSON.stringify(config, null, 1);
  files['index.html'] = indexHtml('fer · facial emotion recognition');
  files['app.js'] = await pageScript();
  files['NOTICE.txt'] =
    'Face detector and 68-point landmark net: @vladmandic/face-api (MIT), converted to ONNX by fer.\n' +
    'Face mesh: MediaPipe (Apache-2.0), as shipped by @vladmandic/human (MIT), converted to ONNX by fer; its map to 68 points was fitted by fer on 300-W annotations (research, non-commercial terms).\n' +
    'Runtime: onnxruntime-web (MIT, Microsoft). Emotion classifier: fer (MIT), trained on FER2013.\n';
  // onnxruntime-web's exports map hides package.json; its wasm entry (CommonJS) lies in dist/.
  const ortDir = path.dirname(require.resolve('onnxruntime-web/wasm'));
  for (const f of ORT_FILES) files[f] = readFileSync(path.join(ortDir, f));
  // Each through fer's output writer: atomic, never through a link nor onto a file fer did not write.
  for (const name of Object.keys(files)) checkOutputFile(path.join(out, name), 'out');
  for (const [name, data] of Object.entries(files)) writeOutput(path.join(out, name), data);
  const list = readdirSync(out)
    .filter((f) => f in files)
    .sort()
    .map((name) => ({ name, bytes: statSync(path.join(out, name)).size }));
  return { dir: out, files: list, bytes: list.reduce((a, f) => a + f.bytes, 0), classes: info.classes };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

/**
 * The file a request names inside `root` (a resolved real path), or why not: a path that does not decode
 * (`/%`) is 400; one that leads outside `root`, directly or through a symlink, or that is not a regular
 * file, is 404 (the same answer as a missing file, so nothing is told about what lies outside).
 */
export function resolveRequest(root: string, rawUrl: string): { file: string } | { status: 400 | 404 } {
  const pathname = rawUrl.split(/[?#]/)[0] || '/';
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  } catch {
    return { status: 400 };
  }
  if (decoded.includes('\0') || !decoded.startsWith('/')) return { status: 400 };
  const file = path.resolve(root, '.' + decoded);
  if (!file.startsWith(root + path.sep)) return { status: 404 };
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return { status: 404 };
  }
  if (!real.startsWith(root + path.sep) || !statSync(real).isFile()) return { status: 404 };
  return { file: real };
}

/** A listen error (busy port, an address this machine does not have, a host that does not resolve) as exit 2. */
function listenError(e: NodeJS.ErrnoException, port: number, host: string): Error {
  const why: Record<string, string> = {
    EADDRINUSE: `port ${port} is in use on ${host}`,
    EACCES: `port ${port} on ${host} needs privileges`,
    EADDRNOTAVAIL: `${host} is not an address of this machine`,
    ENOTFOUND: `host ${JSON.stringify(host)} does not resolve`,
    EAI_AGAIN: `host ${JSON.stringify(host)} does not resolve`,
  };
  const reason = why[e.code ?? ''];
  return reason ? new UsageError(`serve: ${reason}`, { hint: 'pick another --port or --host', cause: e }) : e;
}

/**
 * Serves `dir` on localhost (port 0: any free one), cross-origin isolated (COOP/COEP), so onnxruntime-web
 * may use wasm threads. Only regular files whose real path is inside `dir`; nothing else is reachable, and
 * no request can stop the server.
 */
export async function serveSite(
  dir: string,
  port = 0,
  host = '127.0.0.1',
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  if (!existsSync(path.join(dir, 'index.html')))
    throw new UsageError(
      `serve: ${existsSync(dir) ? `${dir} has no index.html` : `no such folder: ${dir}`} (write one with fer export web --out ${dir})`,
    );
  const root = realpathSync(path.resolve(dir));
  const server = createServer((req, res) => {
    const plain = (status: number, text: string) => res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    if (req.method !== 'GET' && req.method !== 'HEAD') return void plain(405, 'method not allowed');
    const r = resolveRequest(root, req.url ?? '/');
    if ('status' in r) return void plain(r.status, r.status === 400 ? 'bad request' : 'not found');
    let body: Buffer;
    try {
      body = readFileSync(r.file);
    } catch {
      return void plain(404, 'not found');
    }
    res.writeHead(200, {
      'content-type': MIME[path.extname(r.file).toLowerCase()] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) =>
    server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, port, host))).listen(port, host, resolve),
  );
  const addr = server.address() as { port: number };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}/`,
    server,
    // Connections still open (a tab keeping its socket, a half-sent request) are closed too: server.close()
    // alone waited for them, and Ctrl-C on `fer serve` did nothing while a client held one.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
