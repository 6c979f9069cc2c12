// Classify the faces of a photo with fer's library API (plain node, ESM): node classify.mjs photo.jpg
import { createPredictor } from 'fer-toolkit';

const predictor = await createPredictor(); // the shipped model, the auto detector, flip TTA
const result = await predictor.predict(process.argv[2]);
console.log(`${result.width}×${result.height}: ${result.faces.length} face(s)`);
for (const face of result.faces) {
  const { x, y, width, height } = face.box;
  console.log(`${face.emotion} ${(face.confidence * 100).toFixed(1)}% at ${[x, y, width, height].map(Math.round).join(',')}`);
}
await predictor.dispose();
