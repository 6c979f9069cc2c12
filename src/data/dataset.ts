/**
 * FER datasets: a folder `<root>/<class>/*.{jpg,png,…}` or Kaggle's `fer2013.csv`
 * (`emotion,pixels,Usage`), decoded to 48×48 grayscale bytes. Unreadable files are skipped and counted.
 * Decoded folders are cached (keyed by path and each file's name, size and modification time) so a second
 * load takes a moment and a changed file is decoded again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { decodeGray } from '../io/image.js';
import { CLASSES, IMAGE_SIZE } from './classes.js';

export interface Dataset {
  /** N × 48 × 48 grayscale pixels, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  size: number;
  /** Source path of each image (folder datasets) or `csv:<row>`. */
  files: string[];
  /** Per-class counts in CLASSES order. */
  counts: number[];
  skipped: { file: string; reason: string }[];
  source: string;
}

export const CSV_USAGES = ['Training', 'PublicTest', 'PrivateTest'] as const;
export type CsvUsage = (typeof CSV_USAGES)[number];

export interface LoadOptions {
  usage?: CsvUsage;
  cache?: boolean;
  onProgress?: (done: number, total: number) => void;
}

const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|bmp|avif)$/i;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** A Kaggle-style CSV dataset (by extension). */
export const isCsv = (source: string) => source.toLowerCase().endsWith('.csv');

export async function loadDataset(source: string, options: LoadOptions = {}): Promise<Dataset> {
  if (!existsSync(source)) throw new UsageError(`data: no such file or folder: ${source}`);
  if (statSync(source).isDirectory()) return loadFolder(source, options);
  if (isCsv(source)) return loadCsv(source, options.usage);
  throw new UsageError(`data: expected a folder of <class>/ subfolders or a .csv file, got ${source}`);
}

function cacheDir(): string {
  return process.env.FER_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'fer');
}

async function loadFolder(root: string, options: LoadOptions): Promise<Dataset> {
  // Hidden folders (.git, .cache, …) are not classes.
  const entries = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.'));
  const unknown = entries.map((e) => e.name).filter((n) => !(CLASSES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new UsageError(`data: unknown class folder "${unknown[0]}" in ${root} (expected: ${CLASSES.join(', ')})`);
  }
  const files: string[] = [];
  const labels: number[] = [];
  CLASSES.forEach((cls, label) => {
    const dir = path.join(root, cls);
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir).sort()) {
      if (f.startsWith('.')) continue;
      files.push(path.join(dir, f));
      labels.push(label);
    }
  });
  if (files.length === 0) throw new UsageError(`data: no images in ${root} (expected ${root}/<class>/*.jpg)`);

  const key = createHash('sha1')
    .update(path.resolve(root))
    .update(files.map((f) => {
      const st = statSync(f);
      return `${f}:${st.size}:${st.mtimeMs}`;
    }).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const cacheFile = path.join(cacheDir(), `${key}.bin`);
  if (options.cache !== false && existsSync(cacheFile)) {
    const cached = readCache(cacheFile, files);
    if (cached) return { ...cached, source: root };
  }

  const images = new Uint8Array(files.length * PIXELS);
  const ok = new Uint8Array(files.length);
  const skipped: Dataset['skipped'] = [];
  let next = 0, done = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      try {
        if (!IMAGE_EXT.test(files[i])) throw new Error('not an image file');
        images.set(await decodeGray(files[i], IMAGE_SIZE), i * PIXELS);
        ok[i] = 1;
      } catch (e) {
        skipped.push({ file: files[i], reason: (e as Error).message.split('\n')[0] });
      }
      done++;
      if (done % 1000 === 0) options.onProgress?.(done, files.length);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const ds = compact(images, Uint8Array.from(labels), ok, files, skipped, root);
  if (ds.size === 0) throw new UsageError(`data: none of the ${files.length} files in ${root} is a readable image`);
  if (options.cache !== false) writeCache(cacheFile, ds);
  return ds;
}

function compact(
  images: Uint8Array, labels: Uint8Array, ok: Uint8Array, files: string[], skipped: Dataset['skipped'], source: string,
): Dataset {
  const keep = [...ok.keys()].filter((i) => ok[i]);
  const out = new Uint8Array(keep.length * PIXELS);
  const outLabels = new Uint8Array(keep.length);
  keep.forEach((src, dst) => {
    out.set(images.subarray(src * PIXELS, (src + 1) * PIXELS), dst * PIXELS);
    outLabels[dst] = labels[src];
  });
  const counts = CLASSES.map(() => 0);
  for (const l of outLabels) counts[l]++;
  return {
    images: out, labels: outLabels, size: keep.length, files: keep.map((i) => files[i]), counts,
    skipped: skipped.sort((a, b) => a.file.localeCompare(b.file)), source,
  };
}

function writeCache(file: string, ds: Dataset): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const header = Buffer.from(JSON.stringify({ size: ds.size, files: ds.files, skipped: ds.skipped }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([len, header, Buffer.from(ds.labels), Buffer.from(ds.images)]));
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only costs time next run.
  }
}

function readCache(file: string, files: string[]): Omit<Dataset, 'source'> | null {
  try {
    const buf = readFileSync(file);
    const hlen = buf.readUInt32LE(0);
    const header = JSON.parse(buf.subarray(4, 4 + hlen).toString()) as Pick<Dataset, 'size' | 'files' | 'skipped'>;
    if (header.files.some((f) => !files.includes(f))) return null;
    const labels = new Uint8Array(buf.subarray(4 + hlen, 4 + hlen + header.size));
    const images = new Uint8Array(buf.subarray(4 + hlen + header.size, 4 + hlen + header.size + header.size * PIXELS));
    const counts = CLASSES.map(() => 0);
    for (const l of labels) counts[l]++;
    return { images, labels, size: header.size, files: header.files, skipped: header.skipped, counts };
  } catch {
    return null;
  }
}

/** Kaggle's fer2013.csv: `emotion,pixels,Usage` with 2304 space-separated pixel values per row. */
function loadCsv(file: string, usage: CsvUsage | undefined): Dataset {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = lines[0].split(',').map((h) => h.trim().toLowerCase());
  const ei = header.indexOf('emotion'), pi = header.indexOf('pixels'), ui = header.indexOf('usage');
  if (ei < 0 || pi < 0) throw new UsageError(`data: ${file} is not a fer2013 CSV (expected columns emotion,pixels[,Usage])`);
  const images: number[][] = [];
  const labels: number[] = [];
  const files: string[] = [];
  const skipped: Dataset['skipped'] = [];
  for (let r = 1; r < lines.length; r++) {
    if (!lines[r].trim()) continue;
    const cols = lines[r].split(',');
    if (usage && ui >= 0) {
      const u = cols[ui]?.trim() ?? '';
      if (!(CSV_USAGES as readonly string[]).includes(u)) {
        skipped.push({ file: `csv:${r + 1}`, reason: `unknown Usage "${u}" (expected ${CSV_USAGES.join(', ')})` });
        continue;
      }
      if (u !== usage) continue;
    }
    const label = Number(cols[ei]);
    const raw = (cols[pi] ?? '').trim().split(/\s+/);
    const px = raw.map(Number);
    const bad = px.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v <= 255));
    if (!Number.isInteger(label) || label < 0 || label >= CLASSES.length) {
      skipped.push({ file: `csv:${r + 1}`, reason: `bad emotion "${cols[ei]}"` });
    } else if (px.length !== PIXELS) {
      skipped.push({ file: `csv:${r + 1}`, reason: `expected ${PIXELS} pixels, got ${px.length}` });
    } else if (bad >= 0) {
      skipped.push({ file: `csv:${r + 1}`, reason: `pixel ${bad + 1} is "${raw[bad].slice(0, 20)}" (expected an integer 0..255)` });
    } else {
      images.push(px);
      labels.push(label);
      files.push(`csv:${r + 1}`);
    }
  }
  if (images.length === 0) {
    throw new UsageError(`data: no usable rows in ${file}${usage ? ` with Usage=${usage}` : ''}`);
  }
  const flat = new Uint8Array(images.length * PIXELS);
  images.forEach((px, i) => flat.set(px, i * PIXELS));
  const counts = CLASSES.map(() => 0);
  for (const l of labels) counts[l]++;
  return { images: flat, labels: Uint8Array.from(labels), size: images.length, files, counts, skipped, source: file };
}

/** n images evenly spaced through a dataset (datasets are sorted by class: the first n are one class). */
export function spreadSample(ds: Pick<Dataset, 'images' | 'size'>, n: number): { images: Uint8Array; size: number } {
  const k = Math.min(n, ds.size);
  const px = IMAGE_SIZE * IMAGE_SIZE;
  const images = new Uint8Array(k * px);
  for (let i = 0; i < k; i++) {
    const src = Math.floor((i * ds.size) / k);
    images.set(ds.images.subarray(src * px, (src + 1) * px), i * px);
  }
  return { images, size: k };
}
