/**
 * A video's emotions over time as a picture (`fer predict VIDEO --timeline DIR`): one panel per face track, each
 * class's probability (the smoothed one `fer predict` reports) against the frame's time, and the track's label
 * changes visible at a glance, which a table of frames does not show.
 */
import path from 'node:path';
import { linePanel, svgDoc, esc, type Series } from '../plot/svg.js';
import { svgToPng } from '../io/image.js';
import { checkOutputFile } from '../io/output.js';
import { checkWritableDir } from './batch.js';
import type { PredictManyResult } from './predictor.js';
import type { PredictResult } from './types.js';

/** One colour per FER2013 class (the classes of other models take the palette in order). */
const CLASS_COLORS: Record<string, string> = {
  angry: '#d62728',
  disgust: '#8c564b',
  fear: '#9467bd',
  happy: '#ff7f0e',
  sad: '#1f77b4',
  surprise: '#e377c2',
  neutral: '#7f7f7f',
};
const PALETTE = ['#2ca02c', '#17becf', '#bcbd22', '#393b79', '#e7969c', '#637939', '#843c39', '#7b4173'];

export interface TimelineOptions {
  /** Panels at most: the tracks seen in the most frames (default 6). */
  maxTracks?: number;
  /** The picture's heading (default: the video's path). */
  title?: string;
}

interface TrackSeries {
  id: number;
  times: number[];
  probs: Record<string, number[]>;
  labels: string[];
}

/** Each track's times, probabilities per class and labels, from a video's frame results (fer predict's `track`, `time`). */
function tracksOf(frames: PredictResult[]): TrackSeries[] {
  const tracks = new Map<number, TrackSeries>();
  for (const fr of frames) {
    const time = fr.time ?? fr.frame ?? 0;
    for (const f of fr.faces) {
      if (f.track === undefined) continue;
      let t = tracks.get(f.track);
      if (!t) tracks.set(f.track, (t = { id: f.track, times: [], probs: {}, labels: [] }));
      t.times.push(time);
      t.labels.push(f.emotion);
      for (const [k, v] of Object.entries(f.probabilities)) (t.probs[k] ??= []).push(v);
    }
  }
  return [...tracks.values()];
}

/** At most MAX_POINTS points a line (every k-th): an hour of frames would make a picture of megabytes, no clearer. */
const MAX_POINTS = 2000;
const thinned = (pts: [number, number][]) => {
  const k = Math.ceil(pts.length / MAX_POINTS);
  return k <= 1 ? pts : pts.filter((_, i) => i % k === 0 || i === pts.length - 1);
};

const mostCommon = (xs: string[]) => {
  const n = new Map<string, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
};

/** The timeline as SVG: a panel per track (the most-seen first, then by id), or one line saying no face was tracked. */
export function timelineSvg(frames: PredictResult[], o: TimelineOptions = {}): string {
  const w = 960,
    panelH = 230,
    head = 34;
  // the most-seen tracks, shown in the order they appeared (their ids')
  const all = tracksOf(frames);
  const kept = new Set(
    all
      .map((t) => t.times.length)
      .map((n, i) => [n, i])
      // oxlint-disable-next-line unicorn/no-array-sort -- a fresh array
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, o.maxTracks ?? 6)
      .map(([, i]) => i),
  );
  const tracks = all.filter((_, i) => kept.has(i));
  const title = `<text x="${w / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold" font-family="DejaVu Sans, Arial, sans-serif">${esc(o.title ?? frames[0]?.input ?? 'video')}</text>`;
  if (tracks.length === 0) {
    const none = `<text x="${w / 2}" y="${head + 40}" text-anchor="middle" font-size="13" font-family="DejaVu Sans, Arial, sans-serif">no face was tracked in ${frames.length} frame(s)</text>`;
    return svgDoc(w, head + 70, `${title}${none}`);
  }
  // one time axis for every panel: the video's frames read
  let [xMin, xMax] = [Infinity, -Infinity]; // a loop: spreading hours of frames into Math.min overflows the stack
  for (const f of frames) {
    const t = f.time ?? f.frame ?? 0;
    [xMin, xMax] = [Math.min(xMin, t), Math.max(xMax, t)];
  }
  const panels = tracks.map((t, i) => {
    const classes = Object.keys(t.probs);
    const series: Series[] = classes.map((c, k) => ({
      name: c,
      color: CLASS_COLORS[c] ?? PALETTE[k % PALETTE.length],
      points: thinned(t.times.map((time, j) => [time, t.probs[c][j]] as [number, number])),
    }));
    const changes = t.labels.filter((l, j) => j > 0 && l !== t.labels[j - 1]).length;
    const span = `${t.times[0].toFixed(1)}–${t.times[t.times.length - 1].toFixed(1)} s`;
    const heading = `face ${t.id}: ${span}, mostly ${mostCommon(t.labels)}, ${changes} label change${changes === 1 ? '' : 's'}`;
    return linePanel(0, head + i * panelH, w, panelH, heading, series, {
      xLabel: 'time (s)',
      yMin: 0,
      yMax: 1,
      xMin,
      xMax,
      legendOutside: true,
    });
  });
  const h = head + tracks.length * panelH;
  return svgDoc(w, h, `${title}${panels.join('')}`);
}

/** Writes the timeline of a video's frame results as PNG (through io/output.ts's checks); returns the file. */
export async function writeTimeline(frames: PredictResult[], file: string, o: TimelineOptions = {}): Promise<string> {
  await svgToPng(timelineSvg(frames, o), file);
  return file;
}

/**
 * `--timeline DIR` for a run over `videos`: each video's file (`<name>-timeline.png`, `-2`, `-3`… for names met
 * before), checked before the run (DIR writable, no file there that fer did not write), and a writer that takes the
 * run's results in order and writes a video's timeline once its frames end. `add` and `finish` return the file written.
 */
export function timelineWriter(dir: string, videos: readonly string[], o: TimelineOptions = {}) {
  checkWritableDir(dir, 'timeline');
  const files = new Map<string, string>();
  const used = new Set<string>();
  for (const v of videos) {
    if (files.has(v)) continue;
    const base = path.basename(v).replace(/\.[^.]+$/, '');
    let name = `${base}-timeline.png`;
    for (let k = 2; used.has(name); k++) name = `${base}-${k}-timeline.png`;
    used.add(name);
    const file = path.join(dir, name);
    checkOutputFile(file, 'timeline');
    files.set(v, file);
  }
  let current: string | undefined;
  let frames: PredictResult[] = [];
  const flush = async (): Promise<string | null> => {
    const file = current === undefined ? undefined : files.get(current);
    const written = file && frames.length ? await writeTimeline(frames, file, { ...o, title: o.title ?? current }) : null;
    frames = [];
    return written;
  };
  return {
    /** A result of the run; a video's frames are kept until the next input's result, which writes its timeline. */
    async add(r: PredictManyResult): Promise<string | null> {
      // a new input, or the same video given again (its frames start over)
      const again = r.frame === 0 && frames.length > 0;
      const written = r.input !== current || again ? await flush() : null;
      current = r.input;
      if (r.frame != null && r.width !== undefined) frames.push(r);
      return written;
    },
    /** The last video's timeline, at the end of the run. */
    finish: () => flush(),
  };
}
