/**
 * Faces followed across the frames of a video or webcam, and their emotions smoothed per face: each frame's
 * faces are matched to the tracks of the frames before by box overlap, keep their track's id, and report an
 * exponential moving average of their probabilities (time constant `smooth` seconds, so the same at any frame
 * rate) instead of the frame's own. Each frame alone makes labels jump between close classes with camera noise:
 * the most reported complaint about FER libraries after accuracy (BENCHMARKS.md "Video flicker").
 *
 * Pure (no Node built-ins): fer predict's video path and the browser page share it.
 */
import type { Box, DetectedFace, Point } from '../detect/types.js';
import { iou, pointsBox } from '../detect/geometry.js';
import { labelFaces, type Labelled } from './label.js';
import { UsageError } from '../errors.js';

export interface TrackOptions {
  /** Time constant of the moving average of each face's probabilities, in seconds; 0 = each frame alone. Default 0.5. */
  smooth?: number;
  /** A track unseen for longer than this (seconds) ends; a face found after that starts a new one. Default 1. */
  keep?: number;
  /** Least box overlap (IoU) for a face to continue a track. Default 0.2. */
  minIou?: number;
}

/** A face of a frame with its track: `track` is stable across frames, `probabilities` are the smoothed ones. */
export type TrackedFace<F> = F & { track: number };

interface Track {
  id: number;
  box: Box;
  seen: number;
  probs: number[];
}

export const DEFAULT_SMOOTH_SECONDS = 0.5;

export interface FaceTracker {
  /** The faces of the frame at `time` seconds (frames in order), each with its track and smoothed emotion, in track order. */
  update<F extends { box: Box } & Labelled>(faces: F[], time: number): TrackedFace<F>[];
}

export function createTracker(o: TrackOptions = {}): FaceTracker {
  const tau = o.smooth ?? DEFAULT_SMOOTH_SECONDS,
    keep = o.keep ?? 1,
    minIou = o.minIou ?? 0.2;
  let tracks: Track[] = [];
  let next = 1;
  return {
    update(faces, time) {
      tracks = tracks.filter((t) => time - t.seen <= keep);
      // Greedy matching, the best-overlapping pair first.
      const pairs: [number, number, number][] = [];
      faces.forEach((f, i) => tracks.forEach((t, j) => pairs.push([iou(f.box, t.box), i, j])));
      pairs.sort((a, b) => b[0] - a[0]);
      const faceTrack = new Map<number, Track>(),
        taken = new Set<number>();
      for (const [v, i, j] of pairs) {
        if (v < minIou) break;
        if (faceTrack.has(i) || taken.has(j)) continue;
        faceTrack.set(i, tracks[j]);
        taken.add(j);
      }
      // In track order: a face keeps its place (its row, its colour on the page) whatever order the detector gives.
      const tracked = faces.map((f, i) => {
        const names = Object.keys(f.probabilities);
        const p = names.map((n) => f.probabilities[n]);
        let t = faceTrack.get(i);
        if (!t) {
          t = { id: next++, box: f.box, seen: time, probs: p };
          tracks.push(t);
        } else {
          const a = tau > 0 ? 1 - Math.exp(-Math.max(0, time - t.seen) / tau) : 1;
          t.probs = t.probs.map((q, k) => q + a * (p[k] - q));
          t.box = f.box;
          t.seen = time;
        }
        return { ...labelFaces([f], t.probs, names)[0], track: t.id };
      });
      // oxlint-disable-next-line unicorn/no-array-sort -- `tracked` is this call's own array
      return tracked.sort((a, b) => a.track - b.track);
    },
  };
}

/** Label changes per second of each track, summed over tracks (flicker: 0 for a face whose label never changes). */
export function labelChangesPerSecond(frames: { time: number; faces: { track: number; emotion: string }[] }[]): number {
  if (frames.length < 2) return 0;
  const last = new Map<number, string>();
  let changes = 0;
  for (const fr of frames)
    for (const f of fr.faces) {
      const prev = last.get(f.track);
      if (prev !== undefined && prev !== f.emotion) changes++;
      last.set(f.track, f.emotion);
    }
  return changes / (frames[frames.length - 1].time - frames[0].time);
}

const extent = (pts: Point[]) => {
  const b = pointsBox(pts);
  return { cx: b.x + b.width / 2, cy: b.y + b.height / 2, size: Math.max(b.width, b.height) };
};

const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/**
 * `faces` checked as a predictor's faces (each with a box and its landmark points, finite numbers), for options a
 * user passes back in: a UsageError naming `what` and what it got, not a TypeError deep inside.
 */
export function checkFaces(faces: unknown, what: string): asserts faces is DetectedFace[] {
  const num = finite;
  const point = (p: unknown) => typeof p === 'object' && p !== null && num((p as Point).x) && num((p as Point).y);
  const face = (f: unknown) => {
    if (typeof f !== 'object' || f === null) return false;
    const { box, landmarks } = f as Partial<DetectedFace>;
    return (
      typeof box === 'object' &&
      box !== null &&
      [box.x, box.y, box.width, box.height].every(num) &&
      box.width > 0 &&
      box.height > 0 &&
      Array.isArray(landmarks) &&
      landmarks.length > 0 &&
      landmarks.every(point)
    );
  };
  if (!Array.isArray(faces) || !faces.every(face)) {
    const got = Array.isArray(faces) ? `an array with ${faces.length} item(s), not all faces` : faces === null ? 'null' : typeof faces;
    throw new UsageError(`${what} takes the faces of an earlier result (each with its box and landmarks); got ${got}`);
  }
}

/**
 * Faces followed from one frame to the next without the detector: `next[i]` holds the landmarks the net found on
 * the square framed from `prev[i]`'s (refineSquare). Each box moves and scales with its landmarks; a face whose
 * landmarks changed size by more than a third or moved by more than half their size is taken as lost and
 * dropped (the caller re-detects).
 */
export function followFaces<F extends DetectedFace>(prev: DetectedFace[], next: F[]): F[] {
  checkFaces(prev, 'followFaces');
  if (next.length !== prev.length)
    throw new UsageError(`followFaces: the faces looked for again (${next.length}) are not one per earlier face (${prev.length})`);
  return next.flatMap((f, i) => {
    const a = extent(prev[i].landmarks),
      b = extent(f.landmarks);
    const ratio = b.size / a.size;
    if (!(ratio > 0.75 && ratio < 1.33) || Math.hypot(b.cx - a.cx, b.cy - a.cy) > 0.5 * a.size) return [];
    const p = prev[i].box;
    const box = {
      x: b.cx + (p.x - a.cx) * ratio,
      y: b.cy + (p.y - a.cy) * ratio,
      width: p.width * ratio,
      height: p.height * ratio,
    };
    return [{ ...f, box, score: prev[i].score }];
  });
}
