/**
 * Frames per second of the page `fer export web` writes, in headless Chromium with a fake 640×480 camera
 * (the two-face fixture scene), for onnxruntime-web's wasm backend at 1 and 2 threads (the page is served
 * cross-origin isolated, so threads are allowed) and its WebGPU backend (here Chromium's only adapter is
 * the software SwiftShader, offered with --enable-unsafe-webgpu), each row saying the provider that ran; wasm
 * also with the detector on every frame (`?detect-every=1`) against the page's default (every 5th frame, faces
 * followed by their landmarks between), and with face-api's 68-point net (`?landmarks=net`) against the page's
 * default face mesh. A regular expression as the third argument keeps the rows whose label it matches.
 * CAMERA_FPS sets the fake camera's frame rate (default 10); each row gives the page's predictions a second (each
 * of a new camera frame) and the camera frames the page was shown a second.
 *   [CAMERA_FPS=30] npx tsx bench/web.ts [site] [seconds] [rows]
 */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cameraVideo, launchChromium } from '../test/chromium.js';
import { exportWeb, serveSite } from '../src/web/site.js';
import { useBackend } from '../src/engine/backend.js';

const site = process.argv[2] ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-web-bench-')), 'site');
const seconds = Number(process.argv[3] ?? 10);
if (!existsSync(path.join(site, 'index.html'))) {
  await useBackend('cpu');
  await exportWeb(site);
}
const y4m = path.join(os.tmpdir(), `fer-bench-camera-${process.pid}.y4m`);
cameraVideo('fixtures/scenes/two-faces.jpg', y4m, 1, Number(process.env.CAMERA_FPS ?? 10));
const server = await serveSite(site);
const browser = await launchChromium({ camera: y4m, gpu: 'webgpu' });
const rows: string[] = [];
{
  // The adapter WebGPU runs on in this browser.
  const page = await browser.newPage();
  await page.goto(server.url + 'fer-web.json');
  const adapter = await page.evaluate(async () => {
    const gpu = (
      navigator as unknown as {
        gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string; description: string } } | null> };
      }
    ).gpu;
    const a = gpu ? await gpu.requestAdapter() : null;
    return a ? `${a.info?.vendor || '?'} / ${a.info?.architecture || '?'} / ${a.info?.description || '?'}` : null;
  });
  console.log(`webgpu adapter: ${adapter ?? 'none'}`);
  await page.close();
}
const settings = [
  ['wasm, 1 thread, detector every frame', '?ep=wasm&threads=1&detect-every=1'],
  ["wasm, 1 thread, face-api's net", '?ep=wasm&threads=1&landmarks=net'],
  ['wasm, 1 thread', '?ep=wasm&threads=1'],
  ['wasm, 2 threads, detector every frame', '?ep=wasm&threads=2&detect-every=1'],
  ["wasm, 2 threads, face-api's net", '?ep=wasm&threads=2&landmarks=net'],
  ['wasm, 2 threads', '?ep=wasm&threads=2'],
  ['webgpu (wasm threads: 2)', '?ep=webgpu&threads=2'],
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const only = process.argv[4] ? new RegExp(process.argv[4]) : null;
for (const [label, query] of settings.filter(([l]) => !only || only.test(l))) {
  const page = await browser.newPage();
  await page.goto(server.url + query);
  await page.waitForFunction(
    () => {
      const t = document.getElementById('fer-result')?.textContent;
      return !!t && JSON.parse(t).fps !== null;
    },
    null,
    { timeout: 300_000 }, // WebGPU on a software adapter compiles its shaders for the first frames
  );
  const t0 = Date.now();
  const samples: { fps: number; shownFps: number | null; faces: number }[] = [];
  while (Date.now() - t0 < seconds * 1000) {
    await page.waitForTimeout(1000);
    const r = JSON.parse((await page.textContent('#fer-result'))!) as { fps: number; shownFps?: number | null; faces: unknown[] };
    samples.push({ fps: r.fps, shownFps: r.shownFps ?? null, faces: r.faces.length });
  }
  const status = await page.textContent('#status');
  const provider = await page.textContent('#provider');
  const fps = median(samples.slice(2).map((s) => s.fps));
  const shown = samples
    .slice(2)
    .map((s) => s.shownFps)
    .filter((x): x is number => x !== null);
  rows.push(
    `| ${label} | ${provider} | ${fps.toFixed(fps < 1 ? 3 : 1)} | ${shown.length ? median(shown).toFixed(1) : '–'} | ${Math.min(...samples.map((s) => s.faces))}–${Math.max(...samples.map((s) => s.faces))} | ${status?.replace(/^.*frames\/s · /, '')} | ${await page.evaluate(() => crossOriginIsolated)} |`,
  );
  await page.close();
}
await browser.close();
await server.close();
console.log(
  `| asked | ran on | frames/s predicted (median of 1-s readings) | camera frames/s shown | faces | last frame's stages | cross-origin isolated |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}`,
);
