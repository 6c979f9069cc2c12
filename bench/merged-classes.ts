/**
 * A FER2013 model's accuracy on a merged class set (a class map) without retraining: each merged class's
 * probability is the sum of its source classes'. The baseline a model trained with --class-map must beat.
 *   npx tsx bench/merged-classes.ts [model] [data] [class-map]
 */
import { loadDataset } from '../src/data/dataset.js';
import { modelProbs } from '../src/eval/evaluate.js';
import { useBackend } from '../src/engine/backend.js';
import { readClassMap } from '../src/data/class-map.js';
import { readModelClasses } from '../src/model/io.js';
import { DEFAULT_MODEL } from '../src/model/default.js';

const [model = DEFAULT_MODEL, data = '../shared/data/fer2013/val', mapFile = 'examples/class-maps/valence.json'] = process.argv.slice(2);
await useBackend('auto', 1);
const map = readClassMap(mapFile);
const classes = readModelClasses(model);
const ds = await loadDataset(data, { classes: { map } });
const targets = Object.keys(map);
for (const tta of ['none', 'flip'] as const) {
  const p = await modelProbs(model, ds, tta);
  let ok = 0;
  for (let i = 0; i < ds.size; i++) {
    const s = targets.map((t) => map[t].reduce((a, c) => a + p[i * classes.length + classes.indexOf(c)], 0));
    if (s.indexOf(Math.max(...s)) === ds.labels[i]) ok++;
  }
  console.log(`${model} on ${data}, classes merged by ${mapFile}, tta ${tta}: ${((ok / ds.size) * 100).toFixed(2)}% (${ds.size} images)`);
}
