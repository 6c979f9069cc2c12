/** Learning-rate schedules. State is plain JSON so it goes into checkpoints. */
import type { TrainOptions } from './options.js';

export interface ScheduleState {
  lr: number;
  best: number;
  wait: number;
}

export function initialSchedule(o: TrainOptions): ScheduleState {
  return { lr: o.lr, best: -Infinity, wait: 0 };
}

/** LR for an epoch (cosine/constant depend on the epoch only; plateau on its state). */
export function lrForEpoch(o: TrainOptions, s: ScheduleState, epoch: number): number {
  if (epoch < o.warmupEpochs) return (o.lr * (epoch + 1)) / (o.warmupEpochs + 1);
  if (o.schedule === 'cosine') {
    const t = (epoch - o.warmupEpochs) / Math.max(1, o.epochs - o.warmupEpochs);
    return o.minLr + 0.5 * (o.lr - o.minLr) * (1 + Math.cos(Math.PI * t));
  }
  return o.schedule === 'plateau' ? s.lr : o.lr;
}

/**
 * LR before step `batch` of `batches` in `epoch`. With `lrPerStep` the epoch-wise formula runs on the fractional
 * epoch (epoch + batch/batches), so a cosine decays within an epoch too (a one-epoch fine-tune: from lr at its
 * first step towards minLr at its last); without it, the epoch's LR (lrForEpoch). Plateau is epoch-wise either way.
 */
export function lrForStep(o: TrainOptions, s: ScheduleState, epoch: number, batch: number, batches: number): number {
  if (!o.lrPerStep || o.schedule === 'plateau') return lrForEpoch(o, s, epoch);
  const e = epoch + batch / Math.max(1, batches);
  if (e < o.warmupEpochs) return (o.lr * (e + 1)) / (o.warmupEpochs + 1);
  if (o.schedule === 'cosine') {
    const t = (e - o.warmupEpochs) / Math.max(1, o.epochs - o.warmupEpochs);
    return o.minLr + 0.5 * (o.lr - o.minLr) * (1 + Math.cos(Math.PI * t));
  }
  return o.lr;
}

/** After an epoch: plateau cuts the LR when the monitored value stopped improving. */
export function updateSchedule(o: TrainOptions, s: ScheduleState, monitored: number): ScheduleState {
  if (monitored > s.best + 1e-4) return { ...s, best: monitored, wait: 0 };
  const wait = s.wait + 1;
  if (o.schedule === 'plateau' && wait >= o.lrPatience) {
    return { ...s, lr: Math.max(o.minLr, s.lr * o.lrFactor), wait: 0 };
  }
  return { ...s, wait };
}
