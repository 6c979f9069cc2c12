/** What `fer predict` prints of a result, and its tally (predict/text.ts), on results made by hand. */
import { it, expect } from 'vitest';
import { predictionText, tallyText } from '../../src/predict/text.js';
import type { PredictManyResult } from '../../src/predict/predictor.js';

const face = (emotion: string, probabilities: Record<string, number>, extra = {}) => ({
  box: { x: 10.4, y: 20.6, width: 30, height: 31 },
  score: 1,
  landmarks: [],
  emotion,
  confidence: probabilities[emotion],
  probabilities,
  ...extra,
});

it('one row a face (box rounded, top 3 by probability), the faces of a video frame by track, notes once', () => {
  const note = 'no face found: the whole image classified as one face';
  const r = {
    input: 'clip.mp4',
    frame: 3,
    width: 64,
    height: 64,
    faces: [
      face('happy', { angry: 0.1, happy: 0.7, sad: 0.15, neutral: 0.05 }, { track: 7, note }),
      face('sad', { angry: 0.2, happy: 0.1, sad: 0.6, neutral: 0.1 }, { track: 9, note }),
    ],
  } as PredictManyResult;
  expect(predictionText(r).split('\n')).toEqual([
    'clip.mp4#3: 2 faces',
    'face  box (x,y,w,h)  emotion   conf                          top 3',
    '----  -------------  -------  -----  -----------------------------',
    '7       10,21,30,31    happy  70.0%  happy 70%, sad 15%, angry 10%',
    '9       10,21,30,31      sad  60.0%  sad 60%, angry 20%, happy 10%',
    `  note: ${note}`,
  ]);
});

it("a file name with a newline stays on its result's line (escaped)", () => {
  const r = { input: 'two\nlines.jpg', width: 64, height: 64, faces: [] } as unknown as PredictManyResult;
  expect(predictionText(r).split('\n')[0]).toBe('two\\nlines.jpg: 0 faces');
});

it('the tally with its rate', () => {
  expect(tallyText({ images: 10, faces: 12, noFace: 1, unreadable: 2 }, 4)).toBe(
    '10 images/frames, 12 faces, 1 without a face, 2 unreadable in 4.0 s (2.5/s)',
  );
});
