/** `fer average`: one model whose weights are the mean of several snapshots (SWA), batch norm re-estimated. */
import { Command } from 'commander';
import { z } from 'zod';
import { loadModel, saveModel } from '../model/io.js';
import { averageWeightsInto, recalibrateBatchNorm } from '../train/average.js';
import { CSV_USAGES } from '../data/dataset.js';
import { NO_AUGMENT, TRAIN_AUGMENT } from '../data/augment.js';
import { out, prepareOut, showSchemaDefaults, startEngine, withEngineOptions, withForce } from './common.js';
import { loadWithSummary } from './train.js';
import { Progress } from './progress.js';

export const averageSchema = z.object({
  models: z.array(z.string()).min(1),
  data: z.string({ error: 'required: training data to re-estimate batch-norm statistics' }),
  usage: z.enum(CSV_USAGES).default('Training'),
  batchSize: z.coerce.number().int().min(2).default(256),
  seed: z.coerce.number().int().default(1),
  augment: z.boolean().default(false),
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
    const o = averageSchema.parse({ ...flags, models, json: !!flags.json, augment: !!flags.augment, force: !!flags.force });
    prepareOut(o.out, 'model', o.force);
    const ds = await loadWithSummary(o.data, o.usage, o.json);
    await startEngine(flags, o.json);
    const loaded = [];
    for (const m of o.models) loaded.push(await loadModel(m));
    const [{ model: target, meta }] = loaded;
    if (loaded.length > 1)
      averageWeightsInto(
        target,
        loaded.map((l) => l.model),
      );
    const t0 = Date.now();
    const bar = o.json ? null : new Progress();
    const batches = recalibrateBatchNorm(target, ds.images, ds.size, {
      batchSize: o.batchSize,
      seed: o.seed,
      augment: o.augment ? TRAIN_AUGMENT : NO_AUGMENT,
      onBatch: bar
        ? (done, total) => {
            const s = (Date.now() - t0) / 1000;
            bar.update(done, total, 'batch norm', `${((done * o.batchSize) / s).toFixed(0)} img/s`, (s / done) * (total - done));
          }
        : undefined,
    });
    bar?.done();
    const seconds = (Date.now() - t0) / 1000;
    await saveModel(target, o.out, { ...meta, averagedFrom: o.models });
    for (const l of loaded) l.model.dispose();
    if (o.json) {
      out(JSON.stringify({ out: o.out, models: o.models, batchNormBatches: batches, seconds }));
      return;
    }
    out(
      `${o.models.length > 1 ? `averaged ${o.models.length} models; ` : ''}batch norm re-estimated on ${batches} batches of ${o.batchSize} in ${seconds.toFixed(1)}s`,
    );
    out(`wrote ${o.out}`);
  });
  return cmd;
}
