/**
 * WebGPU in the page (issue #33): createPredictor's default providers are ['webgpu', 'wasm']. Headless
 * Chromium here has no GPU: with --enable-unsafe-webgpu it offers Google's software SwiftShader adapter (so
 * WebGPU does run, slowly, and its results are compared with wasm's), without it no adapter (so the page
 * falls back to wasm and says why). Either way the page shows the provider and fetches one onnxruntime binary.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { cli } from '../commands/cli.js';
import { serveSite } from '../../src/web/site.js';
import { decodeGray } from '../../src/io/image.js';
import { FIXTURE_DATA } from '../fixture-model.js';
import { hasChromium, launchChromium } from '../chromium.js';

interface PageFace {
  box: { x: number; y: number; width: number; height: number };
  landmarks: { x: number; y: number }[];
  probabilities: Record<string, number>;
}
interface PagePredictor {
  provider: string;
  providerNote?: string;
  classify(f: Uint8Array, n: number): Promise<Float32Array>;
  predict(i: HTMLImageElement): Promise<{ faces: PageFace[] }>;
}
type PageFer = { predictor: PagePredictor; createPredictor(o: { executionProviders: string[] }): Promise<PagePredictor> };

describe.skipIf(!hasChromium())('the page on WebGPU, else wasm', () => {
  let server: Awaited<ReturnType<typeof serveSite>>, faces: Uint8Array, n: number;
  const browsers: Browser[] = [];

  /** The page in a browser with (`webgpu`) or without (`off`) a WebGPU adapter, ready, and the files it fetched. */
  async function open(gpu: 'webgpu' | 'off'): Promise<{ page: Page; fetched: string[] }> {
    const browser = await launchChromium({ gpu });
    browsers.push(browser);
    const page = await browser.newPage();
    const fetched: string[] = [];
    page.on('request', (q) => fetched.push(q.url().slice(server.url.length)));
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
    return { page, fetched };
  }

  beforeAll(async () => {
    const site = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-webgpu-')), 'site');
    const r = await cli('export', 'web', '--out', site, '--json');
    expect(r.code, r.stderr).toBe(0);
    const names = (JSON.parse(r.stdout) as { files: { name: string }[] }).files.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining(['ort.webgpu.min.mjs', 'ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.wasm']),
    );
    await sharp('fixtures/scenes/two-faces.jpg').png().toFile(path.join(site, 'two-faces.png'));
    const dir = path.join(FIXTURE_DATA, 'val');
    const files = readdirSync(dir).flatMap((c) =>
      readdirSync(path.join(dir, c))
        .slice(0, 1)
        .map((f) => path.join(dir, c, f)),
    );
    n = files.length;
    faces = new Uint8Array(n * 48 * 48);
    for (const [i, f] of files.entries()) faces.set(await decodeGray(f, 48), i * 48 * 48);
    server = await serveSite(site);
  }, 120_000);

  afterAll(async () => {
    for (const b of browsers) await b.close();
    await server?.close();
  });

  it('no adapter: wasm, with a note saying why, shown on the page; only the wasm binary is fetched; webgpu alone fails', async () => {
    const { page, fetched } = await open('off');
    const r = await page.evaluate(async () => {
      const fer = (window as unknown as { fer: PageFer }).fer;
      const only = await fer.createPredictor({ executionProviders: ['webgpu'] }).then(
        () => 'created',
        (e: Error) => e.message,
      );
      return {
        provider: fer.predictor.provider,
        note: fer.predictor.providerNote,
        shown: document.getElementById('provider')?.textContent,
        only,
      };
    });
    expect(r.provider).toBe('wasm');
    expect(r.note).toMatch(/^webgpu: .*(no WebGPU adapter|navigator\.gpu).*; running on wasm$/);
    expect(r.shown).toBe('onnxruntime-web: wasm (fallback)');
    expect(r.only).toMatch(/^fer: no execution provider runs here: webgpu: /);
    expect(fetched).toContain('ort-wasm-simd-threaded.wasm');
    expect(fetched.filter((f) => f.includes('asyncify') || f.includes('webgpu'))).toEqual([]);
  }, 180_000);

  it("with an adapter: WebGPU runs the three models; the classifier agrees with wasm within 1e-3, a photo's boxes and landmarks within half a pixel", async () => {
    const { page, fetched } = await open('webgpu');
    const provider = await page.evaluate(() => (window as unknown as { fer: PageFer }).fer.predictor.provider);
    const note = await page.evaluate(() => (window as unknown as { fer: PageFer }).fer.predictor.providerNote ?? null);
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return !!(gpu && (await gpu.requestAdapter()));
    });
    expect(provider).toBe(adapter ? 'webgpu' : 'wasm'); // a browser without an adapter falls back (the test above)
    if (!adapter) return;
    expect(note).toBeNull();
    expect(await page.textContent('#provider')).toBe('onnxruntime-web: webgpu');
    expect(fetched).toContain('ort-wasm-simd-threaded.asyncify.wasm');
    expect(fetched).not.toContain('ort-wasm-simd-threaded.wasm'); // the page fetched the WebGPU build only
    const r = await page.evaluate(
      async ([bytes, count]) => {
        const fer = (window as unknown as { fer: PageFer }).fer;
        const wasm = await fer.createPredictor({ executionProviders: ['wasm'] });
        const x = new Uint8Array(bytes as number[]);
        const img = new Image();
        img.src = 'two-faces.png';
        await img.decode();
        const [gpuProbs, wasmProbs] = [await fer.predictor.classify(x, count as number), await wasm.classify(x, count as number)];
        const [gpuPhoto, wasmPhoto] = [await fer.predictor.predict(img), await wasm.predict(img)];
        return { wasmProvider: wasm.provider, gpu: Array.from(gpuProbs), wasm: Array.from(wasmProbs), gpuPhoto, wasmPhoto };
      },
      [Array.from(faces), n] as const,
    );
    expect(r.wasmProvider).toBe('wasm');
    expect(r.gpu).toHaveLength(r.wasm.length);
    const classifierDiff = Math.max(...r.gpu.map((v, i) => Math.abs(v - r.wasm[i])));
    expect(classifierDiff).toBeLessThan(1e-3);
    expect(r.gpuPhoto.faces).toHaveLength(2);
    expect(r.wasmPhoto.faces).toHaveLength(2);
    // End to end, the detector's and landmark net's float differences move the aligned crop by a fraction of a
    // pixel, and the crop's resampling moves the probabilities by more than the classifier's own 1e-3.
    let box = 0,
      mark = 0,
      prob = 0;
    for (const [i, f] of r.gpuPhoto.faces.entries()) {
      const w = r.wasmPhoto.faces[i];
      for (const k of ['x', 'y', 'width', 'height'] as const) box = Math.max(box, Math.abs(f.box[k] - w.box[k]));
      f.landmarks.forEach((p, j) => (mark = Math.max(mark, Math.hypot(p.x - w.landmarks[j].x, p.y - w.landmarks[j].y))));
      for (const [c, p] of Object.entries(f.probabilities)) prob = Math.max(prob, Math.abs(p - w.probabilities[c]));
    }
    process.stderr.write(
      `webgpu vs wasm: classifier ${classifierDiff.toExponential(1)}; photo: box ${box.toFixed(3)} px, landmarks ${mark.toFixed(3)} px, probabilities ${prob.toExponential(1)}\n`,
    );
    expect(box).toBeLessThan(0.5);
    expect(mark).toBeLessThan(0.5);
    expect(prob).toBeLessThan(1e-2);
  }, 300_000);
});
