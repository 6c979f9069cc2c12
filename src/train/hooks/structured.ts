/**
 * Structured pruning during training (`fer train --prune-structured R`, network slimming done gradually):
 * on the polynomial schedule of --prune-begin/--prune-end/--prune-frequency, the channels of lowest batch-norm
 * |γ| in each coupled group (structured.ts: the stem convs, each module's inner channels, each module's
 * output shared by both branches of its add) are silenced by zeroing γ and β of every batch norm that
 * produces them, after every optimizer step. A silenced channel is exactly 0 after its batch norm (and ReLU),
 * so it carries nothing; at the end, `fer prune --structured --ratio R` (criterion bn) removes exactly those
 * channels without changing the network's outputs, giving the smaller dense network. The silenced set only
 * grows (a silenced channel's |γ| is 0, the lowest), and on resume it is read back from the zeros.
 */
import { tf } from '../../engine/tf.js';
import { variableOf } from '../../engine/tfjs-internals.js';
import type { StepHook } from '../types.js';
import type { TrainOptions } from '../options.js';
import { isUpdateStep, scheduledSparsity, type PolynomialSchedule } from '../../prune/prune.js';
import { groupsOf, importance, kind, weightRoles } from '../../prune/structured.js';

/** How many of a group's n channels are silenced at ratio s: what structuredPrune removes at that ratio. */
export const silencedCount = (n: number, s: number) => n - Math.max(1, Math.round((1 - s) * n));

export function structuredHook(o: TrainOptions): StepHook | null {
  if (!(o.pruneStructured > 0)) return null;
  let model: tf.LayersModel;
  let roles: string[] = [];
  let schedule: PolynomialSchedule;
  let silenced = new Map<string, number[]>();
  /** The batch norms' γ and β, with the group of channels each one produces. */
  let bnVectors: { w: tf.LayerVariable; group: string }[] = [];

  const apply = () => {
    for (const { w, group } of bnVectors) {
      const off = silenced.get(group);
      if (!off?.length) continue;
      const v = w.read().dataSync().slice() as Float32Array;
      if (off.every((c) => v[c] === 0)) continue;
      for (const c of off) v[c] = 0;
      tf.tidy(() => variableOf(w).assign(tf.tensor1d(v)));
    }
  };
  return {
    name: 'prune-structured',
    init(m: tf.LayersModel, totalSteps: number) {
      model = m;
      const { ref, roles: r } = weightRoles(m, {});
      ref.dispose();
      roles = r;
      bnVectors = [];
      m.weights.forEach((w, k) => {
        const group = groupsOf(roles[k])[1];
        if (group && roles[k].endsWith('_bn') && ['gamma', 'beta'].includes(kind(w.name))) bnVectors.push({ w, group });
      });
      const at = (v: number) => (v <= 1 ? Math.round(v * totalSteps) : Math.round(v));
      schedule = {
        initialSparsity: 0,
        finalSparsity: o.pruneStructured,
        beginStep: at(o.pruneBegin),
        endStep: at(o.pruneEnd),
        frequency: o.pruneFrequency,
      };
      // Resuming (or fine-tuning a slimmed-in-training model): channels whose γ and β are all zero stay silenced.
      silenced = new Map();
      const zero = new Map<string, boolean[]>();
      for (const { w, group } of bnVectors) {
        const v = w.read().dataSync();
        const z = zero.get(group) ?? Array.from(v, () => true);
        v.forEach((x, c) => (z[c] &&= x === 0));
        zero.set(group, z);
      }
      for (const [g, z] of zero)
        silenced.set(
          g,
          z.flatMap((isZero, c) => (isZero ? [c] : [])),
        );
    },
    afterStep(step) {
      if (isUpdateStep(schedule, step)) {
        const s = scheduledSparsity(schedule, step);
        for (const [group, imp] of importance(model, roles, 'bn')) {
          const order = [...imp.keys()].sort((a, b) => imp[a] - imp[b] || a - b);
          silenced.set(
            group,
            order.slice(0, silencedCount(imp.length, s)).sort((a, b) => a - b),
          );
        }
      }
      apply();
    },
    metrics() {
      let off = 0,
        all = 0;
      for (const [group, c] of silenced) {
        off += c.length;
        all += bnVectors.find((b) => b.group === group)?.w.shape[0] ?? 0;
      }
      return { channelsSilenced: all ? off / all : 0 };
    },
  };
}
