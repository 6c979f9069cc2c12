/** `fer average`: one model whose weights are the mean of several snapshots (SWA), batch norm re-estimated (train/average.ts). */
import { Command } from 'commander';
import { z } from 'zod';
import { averageModels, averageOptionsSchema } from '../train/average-models.js';
import { CSV_USAGES } from '../data/dataset.js';
import { TRAIN_AUGMENT } from '../data/augment.js';
import { prepareOut } from '../io/files.js';
import { modelJsonPath } from '../model/default.js';
import { out, showSchemaDefaults, startEngine, withEngineOptions, withForce } from './common.js';
import { loadWithSummary, printJson } from './printers.js';
import { Progress } from './progress.js';
import { libraryOptions } from '../util/options.js';

export const averageSchema = averageOptionsSchema.extend({
  models: z.array(z.string()).min(1),
  data: z.string({ error: 'required: training data to re-estimate batch-norm statistics' }),
  usage: z.enum(CSV_USAGES).default('Training'),
  out: z.string(),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});

export function averageCommand(): Command {
  const cmd = new Command('average')
    .description(
      'average the weights of snapshots of one network (e.g. the ends of successive training cycles: SWA) and re-estimate its batch-norm statistics',
    )
    .argument('<models...>', 'model directories of one architecture (one model: only its batch-norm statistics are re-estimated)')
    .option('--data <dir|csv>', 'training data for the batch-norm statistics')
    .option('--usage <usage>', 'CSV split for --data (Training|PublicTest|PrivateTest)')
    .option('--batch-size <n>', 'images per batch-norm batch')
    .option('--seed <n>', 'seed of the batch order')
    .option(
      '--augment',
      `augment those images as fer train does by default (flips, ±${TRAIN_AUGMENT.rotation}° rotation, ` +
        `±${TRAIN_AUGMENT.zoom * 100}% zoom, ±${TRAIN_AUGMENT.shift * 100}% shift)`,
    )
    .requiredOption('--out <dir>', 'where to write the averaged model')
    .option('--json', 'print a JSON summary');
  withEngineOptions(withForce(cmd));
  showSchemaDefaults(cmd, averageSchema);
  cmd.action(async (models: string[], flags) => {
    const o = averageSchema.parse({ ...flags, models });
    prepareOut(o.out, 'model', o.force, o.models);
    for (const m of o.models) modelJsonPath(m); // a missing model is refused before the data is read
    const ds = await loadWithSummary(o.data, o.usage, o.json);
    await startEngine(flags, o.json);
    const bar = o.json ? null : new Progress();
    const r = await averageModels(o.models, ds, o.out, {
      ...libraryOptions(averageOptionsSchema, o),
      onBatch: bar
        ? (done, total) => bar.tick(done, total, 'batch norm', `${((done * o.batchSize) / bar.seconds()).toFixed(0)} img/s`)
        : undefined,
    });
    bar?.done();
    if (printJson(o.json, r)) return;
    out(
      `${r.models.length > 1 ? `averaged ${r.models.length} models; ` : ''}batch norm re-estimated on ${r.batchNormBatches} batches of ${o.batchSize} in ${r.seconds.toFixed(1)}s`,
    );
    out(`wrote ${r.out}`);
  });
  return cmd;
}
