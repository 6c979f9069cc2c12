// Type-checks against the installed package's .d.ts files (scripts/check-package.sh): the result types a caller uses.
import { createPredictor, type FaceResult, type PredictResult, type PredictorOptions } from 'fer-toolkit';

const options: PredictorOptions = { tta: 'flip', detector: 'tiny' };
const predictor = await createPredictor(options);
const result: PredictResult = await predictor.predict('photo.jpg');
const many: PredictResult[] = await predictor.predict(['a.jpg', new Uint8Array(4)]);
const top = (f: FaceResult): string => `${f.emotion} ${f.probabilities[f.emotion].toFixed(2)} at ${f.box.x},${f.box.y} (${f.landmarks.length} points)`;
console.log(result.faces.map(top), many.length, result.width * result.height);
await predictor.dispose();
