/**
 * FER datasets: a folder `<root>/<class>/*.{jpg,png,…}` or Kaggle's `fer2013.csv`
 * (`emotion,pixels,Usage`), decoded to 48×48 grayscale bytes. Unreadable files are skipped and counted.
 * Decoded folders are cached (keyed by path and each file's name, size and modification time) so a second
 * load takes a moment and a changed file is decoded again.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { decodeGray } from '../io/image.js';
import { FER2013_CLASSES, IMAGE_SIZE, planClasses, type ClassSpec } from './classes.js';
import { makeDirs } from '../io/make-dirs.js';

export interface Dataset {
  /** N × 48 × 48 grayscale pixels, row-major. */
  images: Uint8Array;
  /** Index into `classes` of each image. */
  labels: Uint8Array;
  size: number;
  /** The class names, in label order (FER2013's seven unless the data or a ClassSpec says otherwise). */
  classes: string[];
  /** Source path of each image (folder datasets) or `csv:<row>`. */
  files: string[];
  /** Per-class counts in `classes` order. */
  counts: number[];
  skipped: { file: string; reason: string }[];
  /** Images whose label is not among `classes` (left out by a ClassSpec). */
  dropped: number;
  source: string;
}

export const CSV_USAGES = ['Training', 'PublicTest', 'PrivateTest'] as const;
export type CsvUsage = (typeof CSV_USAGES)[number];

/** Why a dataset file is left out (not an image, unreadable, no face, several faces): listed in `skipped`, the load goes on. */
export class SkippedFile extends Error {}

/** `decoding`'s failure (the file's: corrupt, unsupported) as a SkippedFile. */
export const skipUnreadable = <T>(decoding: Promise<T>): Promise<T> =>
  decoding.catch((e: unknown) => {
    throw new SkippedFile((e as Error).message ?? String(e), { cause: e });
  });

export interface LoadOptions {
  usage?: CsvUsage;
  cache?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Which classes to train and how source labels map to them (default: all, FER2013's order when they are its). */
  classes?: ClassSpec;
  /**
   * Turns an image file into 48×48 gray pixels, or null when it yields none (e.g. a face cropper over raw photos:
   * listed as 'no face found'); `tag` names it in the cache key. Default: the whole image, resized. To leave a file
   * out with a reason, throw SkippedFile (skipUnreadable wraps a decoding's failure so); any other error stops the
   * load, as a failure of the decoder itself.
   */
  decoder?: { tag: string; decode(file: string): Promise<Uint8Array | null> };
}

const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|bmp|avif)$/i;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** Reads a dataset for a stage: loadDataset by default; the CLI passes one that prints what it loaded. */
export type DataLoader = (
  source: string,
  usage: CsvUsage | undefined,
  options: Pick<LoadOptions, 'classes' | 'decoder'>,
) => Promise<Dataset>;

/** A loader that reads each (source, usage, classes) once: for a caller whose stages all read the same data. */
export function memoizeLoader(load: DataLoader): DataLoader {
  const cache = new Map<string, Promise<Dataset>>();
  return (source, usage, options) => {
    const key = JSON.stringify([source, usage ?? null, options.classes ?? null, !!options.decoder]);
    if (!cache.has(key)) cache.set(key, load(source, usage, options));
    return cache.get(key)!;
  };
}

/** The default DataLoader: loadDataset itself. */
export const loadData: DataLoader = (source, usage, options) => loadDataset(source, { usage, ...options });

/** A Kaggle-style CSV dataset (by extension). */
export const isCsv = (source: string) => source.toLowerCase().endsWith('.csv');

export async function loadDataset(source: string, options: LoadOptions = {}): Promise<Dataset> {
  if (!existsSync(source)) throw new UsageError(`data: no such file or folder: ${source}`);
  if (statSync(source).isDirectory()) return loadFolder(source, options);
  if (isCsv(source)) return loadCsv(source, options.usage, options.classes);
  throw new UsageError(`data: expected a folder of <class>/ subfolders or a .csv file, got ${source}`);
}

function cacheDir(): string {
  return process.env.FER_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'fer');
}

async function loadFolder(root: string, options: LoadOptions): Promise<Dataset> {
  // Hidden folders (.git, .cache, …) are not classes.
  const folders = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  if (folders.length === 0) throw new UsageError(`data: no class folders in ${root} (expected ${root}/<class>/ folders of images)`);
  const plan = planClasses(folders, options.classes);
  const files: string[] = [];
  const labels: number[] = [];
  let dropped = 0;
  for (const name of folders) {
    const label = plan.indexOf(name);
    const names = readdirSync(path.join(root, name))
      .filter((f) => !f.startsWith('.'))
      .sort();
    if (label < 0) {
      dropped += names.length;
      continue;
    }
    for (const f of names) {
      files.push(path.join(root, name, f));
      labels.push(label);
    }
  }
  checkNotSplitRoot(root, folders, files);
  // Label order, then file order: datasets are sorted by class.
  const order = [...files.keys()].sort((a, b) => labels[a] - labels[b] || (files[a] < files[b] ? -1 : 1));
  const sortedFiles = order.map((i) => files[i]),
    sortedLabels = order.map((i) => labels[i]);
  if (sortedFiles.length === 0)
    throw new UsageError(
      `data: no images of the classes ${plan.classes.join(', ')} in ${root} (expected ${root}/<class>/ folders of images)`,
    );

  const decoder = options.decoder;
  const key = createHash('sha1')
    .update(path.resolve(root))
    .update(decoder ? `decoder:${decoder.tag}\n` : '')
    .update(
      sortedFiles
        .map((f) => {
          const st = statSync(f);
          return `${f}:${st.size}:${st.mtimeMs}`;
        })
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 16);
  const cacheFile = path.join(cacheDir(), `${key}.bin`);
  const labelOf = new Map(sortedFiles.map((f, i) => [f, sortedLabels[i]]));
  if (options.cache !== false && existsSync(cacheFile)) {
    const cached = readCache(cacheFile, sortedFiles);
    if (cached) {
      const cachedLabels = Uint8Array.from(cached.files, (f) => labelOf.get(f)!);
      return {
        ...cached,
        labels: cachedLabels,
        classes: plan.classes,
        counts: countLabels(cachedLabels, plan.classes.length),
        dropped,
        source: root,
      };
    }
  }

  const images = new Uint8Array(sortedFiles.length * PIXELS);
  const ok = new Uint8Array(sortedFiles.length);
  const skipped: Dataset['skipped'] = [];
  let next = 0,
    done = 0;
  const worker = async () => {
    while (next < sortedFiles.length) {
      const i = next++;
      try {
        if (!IMAGE_EXT.test(sortedFiles[i])) throw new SkippedFile('not an image file');
        const px = decoder ? await decoder.decode(sortedFiles[i]) : await skipUnreadable(decodeGray(sortedFiles[i], IMAGE_SIZE));
        if (!px) throw new SkippedFile('no face found');
        images.set(px, i * PIXELS);
        ok[i] = 1;
      } catch (e) {
        // A file that cannot be read is skipped and said; a failure of fer's own (a detector, a bug) stops the load.
        if (!(e instanceof SkippedFile)) throw e;
        skipped.push({ file: sortedFiles[i], reason: e.message.split('\n')[0] });
      }
      done++;
      if (done % 1000 === 0 || (decoder && done % 20 === 0)) options.onProgress?.(done, sortedFiles.length);
    }
  };
  await Promise.all(Array.from({ length: decoder ? 1 : 8 }, worker));
  const ds = compact(images, Uint8Array.from(sortedLabels), ok, sortedFiles, skipped, root, plan.classes, dropped);
  if (ds.size === 0)
    throw new UsageError(`data: none of the ${sortedFiles.length} files in ${root} is a readable image${decoder ? ' with a face' : ''}`);
  if (options.cache !== false) writeCache(cacheFile, ds);
  return ds;
}

/** A folder of splits (train/, val/, each of class folders) given for one split: said, instead of "no readable image". */
function checkNotSplitRoot(root: string, folders: string[], files: string[]): void {
  if (files.length === 0 || !files.every((f) => statSync(f).isDirectory())) return;
  const example = path.join(root, folders.includes('train') ? 'train' : folders[0]);
  throw new UsageError(
    `data: ${root}'s folders (${folders.join(', ')}) hold folders, not images: it looks like a dataset's splits; give one of them, e.g. ${example}`,
  );
}

function countLabels(labels: ArrayLike<number>, classes: number): number[] {
  const counts = Array.from({ length: classes }, () => 0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

function compact(
  images: Uint8Array,
  labels: Uint8Array,
  ok: Uint8Array,
  files: string[],
  skipped: Dataset['skipped'],
  source: string,
  classes: string[],
  dropped: number,
): Dataset {
  const keep = [...ok.keys()].filter((i) => ok[i]);
  const out = new Uint8Array(keep.length * PIXELS);
  const outLabels = new Uint8Array(keep.length);
  keep.forEach((src, dst) => {
    out.set(images.subarray(src * PIXELS, (src + 1) * PIXELS), dst * PIXELS);
    outLabels[dst] = labels[src];
  });
  return {
    images: out,
    labels: outLabels,
    size: keep.length,
    files: keep.map((i) => files[i]),
    classes,
    counts: countLabels(outLabels, classes.length),
    skipped: skipped.sort((a, b) => a.file.localeCompare(b.file)),
    dropped,
    source,
  };
}

/**
 * The cache file's layout: a JSON header (size, files, skipped), then the images. Bumped when what decodes changes
 * too (3: BMP files and photos over 50 megapixels, skipped before, are read), so a set is never served with files
 * an older fer skipped.
 */
const CACHE_FORMAT = 3;

function writeCache(file: string, ds: Dataset): void {
  try {
    makeDirs(path.dirname(file));
    // Images only: a file's label is its folder's place in the class plan of the run that reads it.
    const header = Buffer.from(JSON.stringify({ format: CACHE_FORMAT, size: ds.size, files: ds.files, skipped: ds.skipped }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([len, header, Buffer.from(ds.images)]));
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only costs time next run.
  }
}

function readCache(file: string, files: string[]): Pick<Dataset, 'images' | 'size' | 'files' | 'skipped'> | null {
  try {
    const buf = readFileSync(file);
    const hlen = buf.readUInt32LE(0);
    const header = JSON.parse(buf.subarray(4, 4 + hlen).toString()) as Pick<Dataset, 'size' | 'files' | 'skipped'> & { format?: number };
    if (header.format !== CACHE_FORMAT) return null; // an older layout (it stored labels): decoded again, rewritten
    const wanted = new Set(files);
    if (header.files.some((f) => !wanted.has(f))) return null;
    const images = new Uint8Array(buf.subarray(4 + hlen, 4 + hlen + header.size * PIXELS));
    if (images.length !== header.size * PIXELS) return null;
    return { images, size: header.size, files: header.files, skipped: header.skipped };
  } catch {
    return null;
  }
}

/**
 * Kaggle's fer2013.csv: `emotion,pixels,Usage` with 2304 space-separated pixel values per row. The label
 * column (`emotion` or `label`) holds FER2013's numbers 0..6 or class names.
 */
function loadCsv(file: string, usage: CsvUsage | undefined, spec: ClassSpec | undefined): Dataset {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = lines[0].split(',').map((h) => h.trim().toLowerCase());
  const ei = header.indexOf('emotion') >= 0 ? header.indexOf('emotion') : header.indexOf('label');
  const pi = header.indexOf('pixels'),
    ui = header.indexOf('usage');
  if (ei < 0 || pi < 0) throw new UsageError(`data: ${file} is not a fer2013 CSV (expected columns emotion,pixels[,Usage])`);
  const images: number[][] = [];
  const names: string[] = [];
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
    const label = (cols[ei] ?? '').trim();
    const name = /^\d+$/.test(label) ? FER2013_CLASSES[Number(label)] : label && !/^[-+.\d]/.test(label) ? label : undefined;
    const raw = (cols[pi] ?? '').trim().split(/\s+/);
    const px = raw.map(Number);
    const bad = px.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v <= 255));
    if (name === undefined) {
      skipped.push({ file: `csv:${r + 1}`, reason: `bad label "${label.slice(0, 20)}" (expected 0..6 or a class name)` });
    } else if (px.length !== PIXELS) {
      skipped.push({ file: `csv:${r + 1}`, reason: `expected ${PIXELS} pixels, got ${px.length}` });
    } else if (bad >= 0) {
      skipped.push({ file: `csv:${r + 1}`, reason: `pixel ${bad + 1} is "${raw[bad].slice(0, 20)}" (expected an integer 0..255)` });
    } else {
      images.push(px);
      names.push(name);
      files.push(`csv:${r + 1}`);
    }
  }
  if (images.length === 0) {
    throw new UsageError(`data: no usable rows in ${file}${usage ? ` with Usage=${usage}` : ''}`);
  }
  const plan = planClasses([...new Set(names)], spec);
  const keep = [...names.keys()].filter((i) => plan.indexOf(names[i]) >= 0);
  if (keep.length === 0) throw new UsageError(`data: no rows of the classes ${plan.classes.join(', ')} in ${file}`);
  const flat = new Uint8Array(keep.length * PIXELS);
  keep.forEach((src, i) => flat.set(images[src], i * PIXELS));
  const labels = Uint8Array.from(keep, (i) => plan.indexOf(names[i]));
  return {
    images: flat,
    labels,
    size: keep.length,
    files: keep.map((i) => files[i]),
    classes: plan.classes,
    counts: countLabels(labels, plan.classes.length),
    skipped,
    dropped: images.length - keep.length,
    source: file,
  };
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
