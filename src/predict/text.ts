/** The text `fer predict` prints: each image's or frame's faces as a table, and the tally at the end. */
import { oneLine, textTable } from '../util/text-table.js';
import type { PredictManyResult } from './predictor.js';
import type { PredictTally } from './tally.js';

/** What a result's text line names: its input (control characters escaped: a file name can hold a newline), `#frame` for a video's. */
export const resultSource = (r: PredictManyResult) => oneLine(r.frame != null ? `${r.input}#${r.frame}` : `${r.input}`);

/** An image's or frame's faces: box, emotion, confidence and the top three classes each, then their notes. */
export function predictionText(r: PredictManyResult): string {
  const faces = textTable(
    ['face', 'box (x,y,w,h)', 'emotion', 'conf', 'top 3'],
    r.faces.map((f, i) => [
      f.track ?? i + 1,
      [f.box.x, f.box.y, f.box.width, f.box.height].map((v) => v.toFixed(0)).join(','),
      f.emotion,
      `${(f.confidence * 100).toFixed(1)}%`,
      Object.entries(f.probabilities)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`)
        .join(', '),
    ]),
  );
  const notes = [...new Set([r.note, ...r.faces.map((f) => f.note)].filter(Boolean))].map((note) => `  note: ${note}`);
  return [`${resultSource(r)}: ${r.faces.length} face${r.faces.length === 1 ? '' : 's'}`, faces, ...notes].join('\n');
}

/** The tally of a run that took `seconds`: images and frames, faces, images without one, unreadable inputs, the rate. */
export function tallyText(t: PredictTally, seconds: number): string {
  return (
    `${t.images} images/frames, ${t.faces} faces, ${t.noFace} without a face, ${t.unreadable} unreadable` +
    ` in ${seconds.toFixed(1)} s (${(t.images / seconds).toFixed(1)}/s)`
  );
}
