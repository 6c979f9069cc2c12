// A strict TypeScript consumer of fer-toolkit's root entry (tsconfig.json: strict, skipLibCheck false): it
// imports only the predictor and its types, and compiles only if no declaration the root entry loads (fer's
// own, or a dependency's it imports, such as tfjs-layers', which do not compile strict) has an error.
import { createPredictor, type FaceResult, type PredictResult, type PredictorOptions } from 'fer-toolkit';

const options: PredictorOptions = { tta: 'flip', detector: 'tiny' };
const predictor = await createPredictor(options);
const result: PredictResult = await predictor.predict('photo.jpg');
const top = (f: FaceResult): string => `${f.emotion} ${f.probabilities[f.emotion].toFixed(2)}`;
console.log(result.faces.map(top));
await predictor.dispose();
