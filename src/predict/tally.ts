/** Counts over predictMany's results, as `fer predict` reports them at the end and decides its exit code by. */
import type { PredictManyResult } from './predictor.js';

export interface PredictTally {
  /** Images and video frames seen. */
  images: number;
  faces: number;
  /** Images read, with no face found. */
  noFace: number;
  /** Inputs that could not be read (not images, corrupt, missing). */
  unreadable: number;
}

/** A running tally: `add` each result as it comes. */
export function predictTally(): PredictTally & { add(r: PredictManyResult): void; nothingRead(): boolean } {
  return {
    images: 0,
    faces: 0,
    noFace: 0,
    unreadable: 0,
    add(r) {
      this.images++;
      this.faces += r.faces.length;
      if (r.faces.length === 0) {
        if (r.error === 'no face found') this.noFace++;
        else this.unreadable++;
      }
    },
    /** True when every input was unreadable (images without a face are results too). */
    nothingRead() {
      return this.unreadable > 0 && this.unreadable === this.images;
    },
  };
}
