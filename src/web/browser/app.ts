/**
 * The page `fer export web` writes: the webcam (started on load when the browser allows it), or a dropped
 * photo or video, through the predictor; boxes, landmarks and emotions drawn over the frame, probability bars,
 * frames per second (predicted, of the camera's). The latest result (the predict shape plus `fps`, frames predicted a
 * second, each a new camera frame, and `shownFps`, the camera's or video's own rate) is kept as JSON in #fer-result, and the
 * predictor is `window.fer.predictor` for tests and other scripts.
 */
import { createPredictor, type WebPredictResult, type WebPredictor, type WebProvider } from './predictor.js';
import { createTracker, type FaceTracker } from '../../predict/track.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const view = $<HTMLCanvasElement>('view');
const ctx = view.getContext('2d')!;
const bars = $<HTMLDivElement>('bars');
const status = $<HTMLSpanElement>('status');
const resultEl = $<HTMLPreElement>('fer-result');
const video = document.createElement('video');
video.muted = true;
video.playsInline = true;

let predictor: WebPredictor;
let source: 'camera' | 'video' | 'photo' | null = null;
let frameTimes: number[] = [];
/** Camera and video: faces followed across frames, their emotions smoothed over about half a second. */
let tracker: FaceTracker = createTracker();
/** The detector runs every this many camera or video frames (`?detect-every=N` sets it; 1 = every frame). */
let DETECT_EVERY = 5;
let frameNo = 0;
let last: WebPredictResult['faces'] = [];

const COLORS = ['#ffdd00', '#00e5ff', '#ff5ca8', '#7cff6b', '#ff9f1c'];

/**
 * An element holding `text` as a text node. Class names come from the model (its metadata), so they never
 * go through innerHTML: a name such as `<img onerror=…>` shows as those characters.
 */
function el(tag: string, text = '', className = ''): HTMLElement {
  const e = document.createElement(tag);
  if (text) e.textContent = text;
  if (className) e.className = className;
  return e;
}

/** One face's probability bars: its heading, then a row per class (name, bar, percentage). */
function faceBars(f: WebPredictResult['faces'][number], i: number): HTMLElement {
  const box = el('div', '', 'face');
  const title = el('b', `face ${i + 1}`);
  title.style.color = COLORS[i % COLORS.length];
  box.append(title);
  for (const [k, v] of Object.entries(f.probabilities)) {
    const bar = el('i');
    bar.style.width = `${(v * 100).toFixed(1)}%`;
    const row = el('div', '', 'bar');
    row.append(el('span', k), bar, el('em', `${(v * 100).toFixed(0)}%`));
    box.append(row);
  }
  return box;
}

function draw(image: CanvasImageSource, w: number, h: number, r: WebPredictResult, fps: number | null): void {
  // Set only on a change: setting a canvas's size (even to the same) clears and reallocates it.
  if (view.width !== w) view.width = w;
  if (view.height !== h) view.height = h;
  ctx.drawImage(image, 0, 0, w, h);
  const s = Math.max(1, Math.min(w, h) / 400);
  r.faces.forEach((f, i) => {
    const c = COLORS[i % COLORS.length];
    ctx.strokeStyle = c;
    ctx.lineWidth = 2 * s;
    ctx.strokeRect(f.box.x, f.box.y, f.box.width, f.box.height);
    ctx.fillStyle = '#00e5ff';
    for (const p of f.landmarks) ctx.fillRect(p.x - s, p.y - s, 2 * s, 2 * s);
    const label = `${f.emotion} ${(f.confidence * 100).toFixed(0)}%`;
    ctx.font = `${14 * s}px system-ui, sans-serif`;
    const tw = ctx.measureText(label).width + 6 * s;
    ctx.fillStyle = c;
    ctx.fillRect(f.box.x, Math.max(0, f.box.y - 18 * s), tw, 18 * s);
    ctx.fillStyle = '#000';
    ctx.fillText(label, f.box.x + 3 * s, Math.max(0, f.box.y - 18 * s) + 14 * s);
  });
  // The camera's (or video's) own frame rate beside the rate of frames predicted, where the browser counts it.
  const shown = fps !== null && hasFrameCallback ? rate(presentedTimes) : null;
  bars.replaceChildren(...(r.faces.length ? r.faces.map(faceBars) : [el('p', 'no face in view', 'muted')]));
  status.className = 'muted'; // an earlier error's red is over
  status.textContent =
    `${source}: ${r.faces.length} face${r.faces.length === 1 ? '' : 's'}` +
    (fps ? ` · ${fps.toFixed(1)}${shown ? ` of ${shown.toFixed(1)}` : ''} frames/s` : '') +
    ` · detect ${r.timings.detectMs.toFixed(0)} ms, landmarks ${r.timings.landmarksMs.toFixed(0)} ms, emotions ${r.timings.classifyMs.toFixed(0)} ms`;
  const { timings: _t, ...shape } = r;
  resultEl.textContent = JSON.stringify({ ...shape, source, fps, shownFps: shown, provider: predictor.provider });
}

/**
 * Whether the browser has presented a camera or video frame since the last prediction, told by
 * requestVideoFrameCallback where the browser has it. A frame is predicted once: the loop waits only when no new
 * frame has come since its last prediction, so a pipeline slower than the camera takes the newest frame at once
 * and one faster than it does not predict the same frame twice.
 */
let fresh = false;
let presentedTimes: number[] = [];
let wake: (() => void) | null = null;
const hasFrameCallback = 'requestVideoFrameCallback' in HTMLVideoElement.prototype;
if (hasFrameCallback) {
  const onFrame = (): void => {
    fresh = true;
    presentedTimes = recent(presentedTimes, performance.now());
    wake?.();
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

function nextFrame(): Promise<void> {
  if (!hasFrameCallback) return new Promise((resolve) => requestAnimationFrame(() => resolve()));
  if (fresh) return Promise.resolve();
  return new Promise((resolve) => {
    wake = () => {
      wake = null;
      resolve();
    };
  });
}

/** The times of the last 2 s with `now`, always keeping the one before: a rate even when frames are slow. */
function recent(times: number[], now: number): number[] {
  return [...times.filter((t, i) => now - t < 2000 || i === times.length - 1), now];
}

/** Events per second over `times` (null under two). */
function rate(times: number[]): number | null {
  return times.length > 1 ? (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000) : null;
}

async function loop(): Promise<void> {
  for (;;) {
    await nextFrame();
    fresh = false;
    try {
      await frame();
    } catch (e) {
      showError(e); // said, and the next frame is tried: one bad frame does not stop the page
    }
    // A turn of the event loop, so the page paints and takes input between frames.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

async function frame(): Promise<void> {
  if ((source === 'camera' || source === 'video') && video.readyState >= 2 && !video.paused && video.videoWidth > 0) {
    // The detector runs every DETECT_EVERY frames (and when a face is lost); between, faces are followed by
    // their landmarks (predictor.predict's `follow`), which costs one landmark look instead of a detection.
    const follow = frameNo % DETECT_EVERY !== 0 && last.length ? last : undefined;
    let r = await predictor.predict(video, follow ? { follow } : {});
    if (follow && r.faces.length < follow.length) r = await predictor.predict(video);
    last = r.faces;
    frameNo++;
    const now = performance.now();
    r.faces = tracker.update(r.faces, now / 1000);
    frameTimes = recent(frameTimes, now);
    draw(video, video.videoWidth, video.videoHeight, r, rate(frameTimes));
  }
}

function showError(e: unknown): void {
  const message = `${(e as Error).message ?? e}`;
  status.textContent = `error: ${message}`;
  status.className = 'error';
  // Nothing shown any more (a file that failed to open stopped the camera): no earlier faces are left as the result.
  if (source === null) {
    bars.replaceChildren();
    resultEl.textContent = JSON.stringify({ source, faces: [], error: message });
  }
}

/** The camera's stream (its light goes off) or a video file, whichever the page shows, stopped. */
function stopVideo(): void {
  (video.srcObject as MediaStream | null)?.getTracks().forEach((t) => t.stop());
  video.srcObject = null;
  video.removeAttribute('src');
  source = null;
}

async function startCamera(): Promise<void> {
  stopVideo();
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    video.srcObject = stream;
    await video.play();
    source = 'camera';
    frameTimes = [];
    presentedTimes = [];
    tracker = createTracker();
    last = [];
  } catch (e) {
    status.textContent = `no camera (${(e as Error).name ?? e}): drop a photo or a video, or choose one`;
  }
}

async function openFile(file: File): Promise<void> {
  const url = URL.createObjectURL(file);
  stopVideo();
  if (file.type.startsWith('video/')) {
    video.src = url;
    video.loop = true;
    await video.play();
    if (video.videoWidth === 0) {
      stopVideo();
      throw new Error(`${file.name} has no picture to analyse (an audio-only file?)`);
    }
    source = 'video';
    frameTimes = [];
    presentedTimes = [];
    tracker = createTracker();
    last = [];
    return;
  }
  const img = new Image();
  img.src = url;
  await img.decode();
  source = 'photo';
  draw(img, img.naturalWidth, img.naturalHeight, await predictor.predict(img), null);
}

async function main(): Promise<void> {
  status.textContent = 'loading models…';
  // ?threads=N and ?ep=webgpu,wasm choose onnxruntime-web's settings, ?detect-every=N how often the detector runs,
  // ?landmarks=net face-api's net instead of the face mesh (for measuring them).
  const q = new URLSearchParams(location.search);
  if (q.has('detect-every')) DETECT_EVERY = Math.max(1, Number(q.get('detect-every')) || 1);
  predictor = await createPredictor({
    threads: q.has('threads') ? Number(q.get('threads')) : undefined,
    executionProviders: (q.get('ep')?.split(',') as WebProvider[] | undefined) ?? undefined,
    landmarks: q.get('landmarks') === 'net' ? 'net' : undefined,
  });
  (window as unknown as { fer: unknown }).fer = { predictor, createPredictor };
  // Which onnxruntime-web provider runs (WebGPU, else wasm), and why not the first one, stays on the page.
  $<HTMLSpanElement>('provider').textContent = `onnxruntime-web: ${predictor.provider}${predictor.providerNote ? ' (fallback)' : ''}`;
  $<HTMLSpanElement>('provider').title = predictor.providerNote ?? '';
  status.textContent = 'models loaded';
  $<HTMLInputElement>('file').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void openFile(f).catch(showError);
  });
  $<HTMLButtonElement>('camera').addEventListener('click', () => void startCamera());
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f) void openFile(f).catch(showError);
  });
  document.body.dataset.ready = 'true';
  await startCamera();
  void loop();
}

main().catch(showError);
