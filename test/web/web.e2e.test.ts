/**
 * fer in the browser (issue #22): `fer export web` → the folder served on localhost → headless Chromium
 * (Debian's, through playwright-core) with a fake camera fed from a fixture video made by ffmpeg. The page
 * finds the two faces with 68 landmarks and emotions, requests nothing outside localhost, logs no error,
 * and its probabilities equal onnxruntime-node's for the same faces.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { cli } from '../commands/cli.js';
import { serveSite } from '../../src/web/site.js';
import { DEFAULT_ONNX } from '../../src/model/default.js';
import { createSession } from '../../src/runtime/ort.js';
import { onnxProbs } from '../../src/runtime/onnx-probs.js';
import { decodeGray } from '../../src/io/image.js';
import { loadClassifier } from '../../src/predict/classifier.js';
import { predictFile } from '../../src/predict/predict.js';
import { iou } from '../../src/detect/faces.js';
import { useBackend } from '../../src/engine/backend.js';
import { FIXTURE_DATA } from '../fixture-model.js';
import { cameraVideo, hasChromium, hasFfmpeg, launchChromium } from '../chromium.js';

const OUT = path.resolve('test-output');

interface PageFace {
  box: { x: number; y: number; width: number; height: number };
  landmarks: unknown[];
  emotion: string;
  probabilities: Record<string, number>;
}

describe.skipIf(!hasChromium() || !hasFfmpeg())('fer export web in headless Chromium', () => {
  let site: string, server: Awaited<ReturnType<typeof serveSite>>, browser: Browser, page: Page;
  const requests: string[] = [],
    errors: string[] = [];

  beforeAll(async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-web-'));
    site = path.join(tmp, 'site');
    const r = await cli('export', 'web', '--out', site, '--json');
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { bytes: number; files: { name: string }[]; classes: string[] };
    expect(res.files.map((f) => f.name)).toEqual(
      expect.arrayContaining(['index.html', 'app.js', 'fer-web.json', 'classifier.onnx', 'ort-wasm-simd-threaded.wasm']),
    );
    expect(res.bytes).toBeLessThan(48 * 1048576); // models + both onnxruntime-web builds + JS, stated in README (a browser fetches one)
    // Test assets served beside the page: fixture faces and a photo as PNG (decoded identically everywhere).
    await sharp('fixtures/scenes/two-faces.jpg').png().toFile(path.join(site, 'two-faces.png'));
    // A face cropped tight (15 px inside its pasted square), as a dataset's face crop: found inside a border only.
    await sharp('fixtures/scenes/two-faces.jpg')
      .extract({ left: 89, top: 129, width: 151, height: 151 })
      .resize(224, 224)
      .png()
      .toFile(path.join(site, 'tight.png'));
    const faceDir = path.join(FIXTURE_DATA, 'val', 'happy');
    await sharp(path.join(faceDir, readdirSync(faceDir)[0]))
      .grayscale()
      .png()
      .toFile(path.join(site, 'face48.png'));
    // The fake camera: 640×480 frames of the two-face scene.
    const y4m = path.join(tmp, 'camera.y4m');
    cameraVideo('fixtures/scenes/two-faces.jpg', y4m);
    server = await serveSite(site);
    browser = await launchChromium({ camera: y4m });
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.on('request', (q) => {
      if (!q.url().startsWith(server.url) && !q.url().startsWith('blob:') && !q.url().startsWith('data:')) requests.push(q.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the webcam page finds both faces with landmarks and emotions, offline, without errors', async () => {
    await page.waitForFunction(
      () => {
        const t = document.getElementById('fer-result')?.textContent;
        return !!t && (JSON.parse(t) as { fps: number | null }).fps !== null;
      },
      null,
      { timeout: 60_000 },
    );
    await page.waitForTimeout(3000); // a few seconds of frames for the rate
    const r = JSON.parse((await page.textContent('#fer-result'))!) as {
      source: string;
      width: number;
      height: number;
      fps: number;
      shownFps: number | null;
      faces: PageFace[];
    };
    expect(r.source).toBe('camera');
    expect([r.width, r.height]).toEqual([640, 480]);
    expect(r.faces).toHaveLength(2);
    for (const f of r.faces) {
      expect(f.landmarks).toHaveLength(68);
      expect(f.emotion).toBe('happy'); // both children smile (Node says so too: test/predict)
      expect(Object.keys(f.probabilities)).toHaveLength(7);
    }
    expect(r.fps).toBeGreaterThan(0);
    // Each camera frame is predicted at most once: the page's rate is at most the camera's (10 a second here),
    // where a loop on every animation frame predicted the same frame twice or more on a fast machine.
    expect(r.shownFps).toBeGreaterThan(5);
    expect(r.fps).toBeLessThanOrEqual(r.shownFps! + 1);
    process.stderr.write(
      `fer web test: ${r.fps.toFixed(1)} of ${r.shownFps!.toFixed(1)} frames/s at 640×480 in headless Chromium (wasm)\n`,
    );
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'web.png') });
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
  }, 90_000);

  it('opened from the disk (file://), the page says to serve it instead of loading forever', async () => {
    const local = await browser.newPage();
    try {
      await local.goto(`file://${path.join(site, 'index.html')}`);
      const status = local.locator('#status');
      await expect.poll(async () => status.textContent(), { timeout: 10_000 }).toContain('fer serve');
      expect(await status.getAttribute('class')).toBe('error');
    } finally {
      await local.close();
    }
  });

  it('the web library names what it cannot take, and dispose() right after predict() lets it finish', async () => {
    const r = await page.evaluate(async () => {
      const fer = (
        window as unknown as {
          fer: {
            createPredictor: (
              o?: unknown,
            ) => Promise<{ predict: (x: unknown, o?: unknown) => Promise<{ faces: unknown[] }>; dispose: () => Promise<void> }>;
          };
        }
      ).fer;
      const q = await fer.createPredictor();
      const refused: string[] = [];
      for (const x of [null, new Blob(['x']), 'two-faces.png', new Uint8Array(3)])
        await q.predict(x).catch((e: Error) => refused.push(e.message));
      const img = new Image();
      img.src = 'two-faces.png';
      await img.decode();
      const pending = q.predict(img);
      await q.dispose(); // in the same tick: it waits for the call in flight
      const faces = (await pending).faces.length;
      const after = await q.predict(img).catch((e: Error) => e.message);
      const other = await fer.createPredictor();
      const badFollow = await other.predict(img, { follow: [{ box: null, landmarks: [] }] }).catch((e: Error) => e.message);
      await other.dispose();
      const badThreshold = await fer.createPredictor({ minConfidence: 3 }).catch((e: Error) => e.message);
      return { refused, faces, after, badFollow, badThreshold };
    });
    expect(r.refused).toHaveLength(4);
    for (const m of r.refused)
      expect(m).toMatch(/^fer: predict takes an <img>, <video>, <canvas>, ImageBitmap, ImageData or OffscreenCanvas; got /);
    expect(r.refused[1]).toMatch(/got a Blob \(decode it first/);
    expect(r.faces).toBe(2);
    expect(r.after).toMatch(/used after dispose/);
    expect(r.badFollow).toMatch(/^fer: predict's follow takes the faces of an earlier result .*got an array with 1 item/);
    expect(r.badThreshold).toMatch(/minConfidence in the library\): the tiny detector's threshold is a probability/);
  });

  it("the browser's classifier probabilities equal onnxruntime-node's (flip TTA) within 1e-3", async () => {
    const dir = path.join(FIXTURE_DATA, 'val');
    const files = readdirSync(dir).flatMap((c) =>
      readdirSync(path.join(dir, c))
        .slice(0, 2)
        .map((f) => path.join(dir, c, f)),
    );
    const faces = new Uint8Array(files.length * 48 * 48);
    for (const [i, f] of files.entries()) faces.set(await decodeGray(f, 48), i * 48 * 48);
    const session = await createSession(DEFAULT_ONNX);
    const node = await onnxProbs(session, 'NHWC', faces, files.length, 'flip');
    await session.release();
    const web = await page.evaluate(
      async ([bytes, n]) => {
        const p = await (
          window as unknown as { fer: { predictor: { classify(f: Uint8Array, n: number): Promise<Float32Array> } } }
        ).fer.predictor.classify(new Uint8Array(bytes as number[]), n as number);
        return Array.from(p);
      },
      [Array.from(faces), files.length] as const,
    );
    expect(web).toHaveLength(node.length);
    const worst = Math.max(...web.map((v, i) => Math.abs(v - node[i])));
    expect(worst).toBeLessThan(1e-3);
  });

  it("predict(image) in the page equals fer predict in Node: a cropped face exactly, a photo's faces closely", async () => {
    await useBackend('cpu');
    const classifier = await loadClassifier(DEFAULT_ONNX);
    const inPage = (file: string, detect: boolean) =>
      page.evaluate(
        async ([url, det]) => {
          const img = new Image();
          img.src = url as string;
          await img.decode();
          const fer = (
            window as unknown as {
              fer: { predictor: { predict(i: HTMLImageElement, o: { detect: boolean }): Promise<{ faces: PageFace[] }> } };
            }
          ).fer;
          return (await fer.predictor.predict(img, { detect: det as boolean })).faces;
        },
        [server.url + file, detect] as const,
      );
    try {
      // A 48×48 face, no detection: the same pixels in, the same probabilities out.
      const [webFace] = await inPage('face48.png', false);
      const { result } = await predictFile(path.join(site, 'face48.png'), classifier, { detect: false });
      for (const [k, v] of Object.entries(result.faces[0].probabilities))
        expect(Math.abs(webFace.probabilities[k] - v), k).toBeLessThan(1e-3);
      // A photo: canvas and sharp resize the detector's view differently, so boxes agree closely, not exactly.
      const web = await inPage('two-faces.png', true);
      const node = (await predictFile(path.join(site, 'two-faces.png'), classifier, { detector: 'tiny' })).result.faces;
      expect(web).toHaveLength(node.length);
      for (const n of node) {
        const w = web.reduce((a, b) => (iou(b.box, n.box) > iou(a.box, n.box) ? b : a));
        expect(iou(w.box, n.box)).toBeGreaterThan(0.85);
        expect(w.emotion).toBe(n.emotion);
        for (const [k, v] of Object.entries(n.probabilities)) expect(Math.abs(w.probabilities[k] - v), k).toBeLessThan(0.1);
      }
      // A face cropped tight: the page searches it again inside a border, as Node does, and finds the same face.
      const webTight = await inPage('tight.png', true);
      const nodeTight = (await predictFile(path.join(site, 'tight.png'), classifier, { detector: 'tiny' })).result.faces;
      expect(nodeTight).toHaveLength(1);
      expect(webTight).toHaveLength(1);
      expect(iou(webTight[0].box, nodeTight[0].box)).toBeGreaterThan(0.7);
      expect(webTight[0].box.x).toBeLessThan(0); // in the crop's coordinates: the face reaches past its edges
    } finally {
      await classifier.release();
    }
    expect(errors).toEqual([]);
  });

  it('a video frame followed from the previous one (no detector) keeps its faces, landmarks and emotions', async () => {
    const r = await page.evaluate(async (url) => {
      const img = new Image();
      img.src = url;
      await img.decode();
      type Face = Omit<PageFace, 'landmarks'> & { landmarks: { x: number; y: number }[] };
      const { predictor } = (
        window as unknown as {
          fer: {
            predictor: { predict(i: HTMLImageElement, o?: { follow?: Face[] }): Promise<{ faces: Face[]; timings: { detectMs: number } }> };
          };
        }
      ).fer;
      const detected = await predictor.predict(img);
      const followed = await predictor.predict(img, { follow: detected.faces });
      return { detected: detected.faces, followed: followed.faces, detectMs: followed.timings.detectMs };
    }, server.url + 'two-faces.png');
    expect(r.detected).toHaveLength(2);
    expect(r.followed).toHaveLength(2);
    expect(r.detectMs).toBe(0);
    r.detected.forEach((d, i) => {
      const f = r.followed[i];
      expect(iou(f.box, d.box)).toBeGreaterThan(0.8);
      const eyes = Math.hypot(d.landmarks[36].x - d.landmarks[45].x, d.landmarks[36].y - d.landmarks[45].y);
      const err = d.landmarks.reduce((a, p, k) => a + Math.hypot(p.x - f.landmarks[k].x, p.y - f.landmarks[k].y), 0) / 68 / eyes;
      expect(err).toBeLessThan(0.05);
      expect(f.emotion).toBe(d.emotion);
    });
    expect(errors).toEqual([]);
  });

  it('the page goes on after a bad file (the next photo clears the error), and the camera pressed again stops its old stream', async () => {
    await page.setInputFiles('#file', { name: 'bad.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not an image') });
    await expect.poll(() => page.getAttribute('#status', 'class'), { timeout: 10_000 }).toBe('error');
    // the camera's last faces are not left as the result of a file that did not open
    expect(JSON.parse((await page.textContent('#fer-result'))!)).toMatchObject({ source: null, faces: [] });
    await page.setInputFiles('#file', path.join(site, 'two-faces.png'));
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toMatch(/^photo: 2 faces/);
    expect(await page.getAttribute('#status', 'class')).toBe('muted');
    // camera, then camera again: one live track, not two (the first one's light would stay on)
    const tracks = await page.evaluate(async () => {
      const live: MediaStreamTrack[] = [];
      const get = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = async (c) => {
        const s = await get(c);
        live.push(...s.getTracks());
        return s;
      };
      const button = document.getElementById('camera') as HTMLButtonElement;
      for (let i = 0; i < 2; i++) {
        button.click();
        await new Promise((r) => setTimeout(r, 1500));
      }
      return live.map((t) => t.readyState);
    });
    expect(tracks).toEqual(['ended', 'live']);
  });
});
