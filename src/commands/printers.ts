/** What several commands print: a dataset's summary as it loads, and training events (bar, epoch lines, JSON). */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { loadDataset, type CsvUsage, type Dataset, type LoadOptions } from '../data/dataset.js';
import { FER2013_CLASSES } from '../data/classes.js';
import type { TrainEvent } from '../train/fit.js';
import { trainOptionsSchema } from '../train/options.js';
import type { CompressHooks } from '../compress/finetune.js';
import { commandLine, note, out, stopOnSignal } from './common.js';
import { Progress, formatDuration } from './progress.js';

/** Loads a dataset, saying on stderr what it holds (per class), what was skipped and what left out. */
export async function loadWithSummary(
  source: string,
  usage: CsvUsage | undefined,
  quiet: boolean,
  o: Pick<LoadOptions, 'classes' | 'decoder'> = {},
): Promise<Dataset> {
  const t0 = Date.now();
  const bar = quiet || !o.decoder ? null : new Progress();
  const ds = await loadDataset(source, {
    usage,
    ...o,
    onProgress: bar ? (d, t) => bar.tick(d, t, 'faces', 'detecting') : undefined,
  });
  bar?.done();
  if (!quiet) {
    const fer = ds.classes.join() === FER2013_CLASSES.join();
    const counts = fer ? ds.counts.join('/') : ds.classes.map((c, i) => `${c} ${ds.counts[i]}`).join(', ');
    note(
      `${source}: ${ds.size} images (${counts}) in ${((Date.now() - t0) / 1000).toFixed(1)}s` +
        (ds.skipped.length ? `, ${ds.skipped.length} skipped (e.g. ${path.basename(ds.skipped[0].file)}: ${ds.skipped[0].reason})` : '') +
        (ds.dropped ? `, ${ds.dropped} of other classes left out` : ''),
    );
  }
  return ds;
}

/** Prints training events: a progress bar (or periodic lines) and one line per epoch, or JSON lines. */
/** Seconds left of a training run at this batch, at its current rate (undefined before it has one). */
export function trainingTimeLeft(e: Extract<TrainEvent, { type: 'batch' }>, epochs: number, batchSize: number): number | undefined {
  const batchesLeft = e.batches - e.batch + (epochs - e.epoch - 1) * e.batches;
  const batchesPerSecond = e.imagesPerSecond / batchSize;
  return batchesPerSecond > 0 ? batchesLeft / batchesPerSecond : undefined;
}

export function trainPrinter(json: boolean, batchSize: number, epochs: number, outDir: string): (e: TrainEvent) => void {
  const bar = new Progress();
  let totalEpochs = epochs;
  let startEpoch = 0;
  const t0 = Date.now();
  return (e: TrainEvent) => {
    if (e.type === 'start') {
      totalEpochs = e.epochs;
      startEpoch = e.startEpoch;
      if (!json)
        note(
          `${e.resumed ? `resuming at epoch ${e.startEpoch + 1}` : 'training'} for ${e.epochs} epochs of ${e.batches} batches → ${outDir}`,
        );
      for (const r of e.revived ?? []) note(`revived ${r.channels.length} dead channel(s) of ${r.layer}`);
      if (e.transplanted) {
        const t = e.transplanted;
        note(
          `started from --init's weights: ${t.copied} tensors copied` +
            (t.skipped.length ? `, ${t.skipped.length} left as initialised (${t.skipped.join(', ')})` : ''),
        );
        if (t.headFrom) {
          note(
            `transfer to new classes: a new classifier head` +
              (t.headFrom.length ? ` (the rows of ${t.headFrom.join(', ')} kept from --init)` : ''),
          );
        }
      }
    } else if (e.type === 'batch' && !json) {
      bar.update(
        e.batch,
        e.batches,
        `epoch ${e.epoch + 1}/${totalEpochs}`,
        `loss ${e.loss.toFixed(4)} acc ${(e.acc * 100).toFixed(1)}% ${e.imagesPerSecond.toFixed(0)} img/s`,
        trainingTimeLeft(e, totalEpochs, batchSize),
      );
    } else if (e.type === 'epoch') {
      const m = e.metrics;
      if (json) {
        out(JSON.stringify(m));
        return;
      }
      const eta = ((Date.now() - t0) / 1000 / (m.epoch - startEpoch)) * (totalEpochs - m.epoch);
      bar.done(
        `epoch ${m.epoch}/${totalEpochs}  loss ${m.loss.toFixed(4)} acc ${(m.acc * 100).toFixed(2)}%` +
          (m.valAcc != null ? `  val_loss ${m.valLoss!.toFixed(4)} val_acc ${(m.valAcc * 100).toFixed(2)}%` : '') +
          `  lr ${m.lr.toExponential(1)}  ${m.imagesPerSecond.toFixed(0)} img/s  ${formatDuration(m.seconds)}` +
          (m.sparsity != null ? `  sparsity ${(m.sparsity * 100).toFixed(1)}%` : '') +
          (m.channelsSilenced != null ? `  channels silenced ${(m.channelsSilenced * 100).toFixed(1)}%` : '') +
          (e.best ? '  *best' : '') +
          `  ETA ${formatDuration(eta)}`,
      );
    } else if (e.type === 'note') {
      if (!json) note(e.message);
    } else if (e.type === 'stop') {
      bar.done();
      note(e.message);
      // where the pictures are: the curves, and the page that gathers them
      if (!json && e.reason !== 'nan' && existsSync(path.join(outDir, 'curves.png')))
        note(`curves: ${path.join(outDir, 'curves.png')}; all of the run on one page: fer report ${outDir}`);
    }
  };
}

/** With --json, prints `value` as one JSON line and returns true; else false (the caller prints its text). */
export function printJson(json: boolean, value: unknown): boolean {
  if (json) out(JSON.stringify(value));
  return json;
}

/**
 * Runs a prune or quantize stage with the hooks the CLI gives it: datasets loaded with their summary, the
 * fine-tune's progress (into `runDir`) and notes unless --json, Ctrl-C stopping a fine-tune after a
 * checkpoint, and the command line recorded in its run.json.
 */
export async function withCompressHooks<T>(
  o: { json: boolean; finetuneEpochs: number; batchSize?: number },
  runDir: string,
  stage: (hooks: CompressHooks) => Promise<T>,
): Promise<T> {
  const stop = o.finetuneEpochs > 0 ? stopOnSignal() : null;
  let bar: Progress | null = null;
  try {
    return await stage({
      load: (source, usage, options) => loadWithSummary(source, usage, o.json, options),
      // a stage's own progress (prune's refit, layer by layer: a minute on a few hundred images), with its ETA
      onProgress: o.json
        ? undefined
        : (done, total, what) => {
            if (done === 0) (bar = new Progress()).update(0, total, what);
            else bar?.tick(done, total, what);
            if (done >= total) bar = (bar?.done(), null);
          },
      onEvent: o.json ? undefined : trainPrinter(false, o.batchSize ?? trainOptionsSchema.parse({}).batchSize, o.finetuneEpochs, runDir),
      onNote: o.json ? undefined : note, // progress notes on stderr, as compress sends them; stdout holds the result
      shouldStop: stop?.shouldStop,
      runJson: { command: commandLine() },
    });
  } finally {
    (bar as Progress | null)?.done();
    stop?.dispose();
  }
}
