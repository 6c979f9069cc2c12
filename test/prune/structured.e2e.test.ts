/**
 * Structured pruning (issue #24): the pruned network's parameters and multiply-adds against a hand count of
 * the architecture with its new channel numbers; with a quarter of every group's channels silenced (batch-norm
 * scale and shift 0, in both branches of each residual add), removing them changes no output; ratio 0 is the
 * identity; the kept channels of an add's two branches are one set.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../src/engine/backend.js';
import { tf } from '../../src/engine/tf.js';
import { buildModel, miniXceptionWithRoles, type MiniXceptionChannels } from '../../src/model/mini-xception.js';
import { modelMacs } from '../../src/model/macs.js';
import { structuredPrune } from '../../src/prune/structured.js';
import { FIXTURE_DATA, fixtureModel } from '../fixture-model.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset } from '../../src/data/dataset.js';
import { train } from '../../src/train/fit.js';
import { trainingHooks } from '../../src/train/finetune.js';
import { trainOptionsSchema } from '../../src/train/options.js';
import { loadModel } from '../../src/model/io.js';
import { registerNativeBackend } from '../../src/engine/native/backend.js';

const hasNative = registerNativeBackend();
import { expectClose } from '../helpers.js';

/** Multiply-adds of a mini-Xception at 48×48 (valid 3×3 stem: 46, 44; each module halves: 22, 11, 6, 3). */
function macsByHand(c: MiniXceptionChannels, classes = 7): number {
  const [s1, s2] = c.stem;
  let m = 46 * 46 * 9 * s1 + 44 * 44 * 9 * s1 * s2;
  const sizes = [44, 22, 11, 6],
    halves = [22, 11, 6, 3];
  let prev = s2;
  for (let k = 0; k < 4; k++) {
    const px = sizes[k] ** 2,
      i = c.inner[k],
      o = c.out[k];
    m += halves[k] ** 2 * prev * o; // residual 1×1, stride 2
    m += px * (9 * prev + prev * i) + px * (9 * i + i * o); // the two separable convs
    prev = o;
  }
  return m + 9 * 9 * prev * classes;
}

function paramsByHand(c: MiniXceptionChannels, classes = 7): number {
  const [s1, s2] = c.stem;
  let p = 9 * s1 + 4 * s1 + 9 * s1 * s2 + 4 * s2;
  let prev = s2;
  for (let k = 0; k < 4; k++) {
    const i = c.inner[k],
      o = c.out[k];
    p += prev * o + 4 * o + 9 * prev + prev * i + 4 * i + 9 * i + i * o + 4 * o;
    prev = o;
  }
  return p + 9 * prev * classes + classes;
}

const probe = () => tf.randomUniform([6, 48, 48, 1], -1, 1, 'float32', 3);
const out = (m: tf.LayersModel, x: tf.Tensor) => (m.predict(x) as tf.Tensor).dataSync() as Float32Array;

describe('structured pruning of mini-Xception', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('counts: the paper network by hand (58,423 parameters) and the pruned one with its new channels', () => {
    const full = buildModel('mini-xception', { seed: 1 });
    const paper: MiniXceptionChannels = { stem: [8, 8], inner: [16, 32, 64, 128], out: [16, 32, 64, 128] };
    expect(paramsByHand(paper)).toBe(58423);
    expect(full.countParams()).toBe(58423);
    expect(modelMacs(full)).toBe(macsByHand(paper));
    const r = structuredPrune(fixtureModel(3), { ratio: 0.5, multiple: 1 });
    expect(r.channels).toEqual({ stem: [4, 4], inner: [8, 16, 32, 64], out: [8, 16, 32, 64] });
    expect(r.model.countParams()).toBe(paramsByHand(r.channels));
    expect(modelMacs(r.model)).toBe(macsByHand(r.channels));
    const r8 = structuredPrune(fixtureModel(3), { ratio: 0.6, multiple: 8 }); // 8·0.4 = 3.2 → 3 → rounded up to 8
    expect(r8.channels.stem).toEqual([8, 8]);
    expect(r8.channels.out).toEqual([8, 16, 32, 56]);
    for (const m of [full, r.model, r8.model]) m.dispose();
  });

  it('ratio 0 gives back the same network', () => {
    const src = fixtureModel(4);
    const r = structuredPrune(src, { ratio: 0 });
    const x = probe();
    expectClose(out(r.model, x), out(src, x), { atol: 1e-6 });
    r.model.dispose();
  });

  it('channels silenced by their batch norm (γ = β = 0, both branches of each add) are removed without changing the outputs', () => {
    const src = fixtureModel(5);
    // Silence the first quarter of every group: each BN's γ and β (an add group's: both branches' BNs).
    const byRole = layersByRole(src, {});
    let silenced = 0;
    for (const [role, layer] of byRole) {
      if (!role.endsWith('_bn')) continue;
      const [gamma, beta, mean, variance] = layer.getWeights();
      const n = gamma.shape[0],
        q = n / 4;
      const mask = tf.tensor1d(Array.from({ length: n }, (_, c) => (c < q ? 0 : 1)));
      layer.setWeights([tf.mul(gamma, mask), tf.mul(beta, mask), mean, variance]);
      silenced += q;
    }
    expect(silenced).toBeGreaterThan(100);
    const r = structuredPrune(src, { ratio: 0.25, criterion: 'bn' });
    for (const [g, kept] of Object.entries(r.kept)) expect(kept[0], g).toBe(kept.length / 3); // the first quarter is gone
    const x = probe();
    expectClose(out(r.model, x), out(src, x), { atol: 1e-5 });
    expect(r.model.countParams()).toBeLessThan(src.countParams() * 0.65);
    r.model.dispose();
  });

  it("an add's two branches keep one channel set: the residual conv and the second separable conv take the same filters", () => {
    const src = fixtureModel(6);
    const r = structuredPrune(src, { ratio: 0.5, criterion: 'l1' });
    const srcRoles = layersByRole(src, {}),
      dstRoles = layersByRole(r.model, { channels: r.channels });
    for (let k = 1; k <= 4; k++) {
      const prev = k === 1 ? r.kept.stem2 : r.kept[`m${k - 1}_out`],
        out = r.kept[`m${k}_out`],
        inner = r.kept[`m${k}_inner`];
      const res = srcRoles.get(`m${k}_res`)!.getWeights()[0],
        pw = srcRoles.get(`m${k}_sep2`)!.getWeights()[1];
      // A [1, 1, in, out] kernel's entries at the kept inputs × kept outputs.
      const pick = (t: tf.Tensor, rows: number[], cols: number[]) => {
        const co = t.shape[3]!,
          v = t.dataSync();
        return rows.flatMap((a) => cols.map((b) => v[a * co + b]));
      };
      expect(Array.from(dstRoles.get(`m${k}_res`)!.getWeights()[0].dataSync())).toEqual(pick(res, prev, out));
      expect(Array.from(dstRoles.get(`m${k}_sep2`)!.getWeights()[1].dataSync())).toEqual(pick(pw, inner, out));
    }
    r.model.dispose();
  });
});

/** A mini-Xception's layers by role (stem1, m1_res, m1_sep2, …): the same architecture lists them in the same order. */
function layersByRole(model: tf.LayersModel, o: { channels?: MiniXceptionChannels }): Map<string, tf.layers.Layer> {
  const ref = miniXceptionWithRoles({ seed: 1, channels: o.channels });
  const m = new Map<string, tf.layers.Layer>();
  ref.model.layers.forEach((l, i) => {
    const r = ref.roles.get(l.name);
    if (r) m.set(r, model.layers[i]);
  });
  ref.model.dispose();
  return m;
}

describe.skipIf(!hasNative)('structured pruning during training (--prune-structured)', () => {
  it('silences half of every channel group on its schedule, and fer prune --structured then removes exactly those channels', async () => {
    await useBackend('native', 2);
    const ds = await loadDataset(path.join(FIXTURE_DATA, 'train'), { cache: false });
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'fer-slim-train-'));
    const o = trainOptionsSchema.parse({
      epochs: 2,
      batchSize: 35,
      lr: 0.003,
      seed: 4,
      pruneStructured: 0.5,
      pruneBegin: 0,
      pruneEnd: 0.5,
      pruneFrequency: 1,
    });
    const hooks = trainingHooks(o);
    expect(hooks.map((h) => h.name)).toEqual(['prune-structured']);
    const r = await train(ds, null, o, { out: runDir, hooks });
    expect(r.history.map((m) => m.channelsSilenced)).toEqual([0.5, 0.5]); // the schedule ends mid-run
    const { model } = await loadModel(path.join(runDir, 'last'));
    // Every batch norm of a group has γ = β = 0 on the same channels: half of each group.
    const byRole = layersByRole(model, {});
    const zeros = new Map<string, boolean[]>();
    for (const [role, layer] of byRole) {
      if (!role.endsWith('_bn')) continue;
      const [gamma, beta] = layer.getWeights().map((t) => t.dataSync());
      const z = Array.from(gamma, (g, c) => g === 0 && beta[c] === 0);
      expect(z.filter(Boolean).length, role).toBe(gamma.length / 2);
      const group = role.startsWith('stem') ? role.slice(0, 5) : role.replace(/_(res|sep2)_bn$/, '_out').replace(/_sep1_bn$/, '_inner');
      const prev = zeros.get(group);
      if (prev) expect(z, group).toEqual(prev); // an add's two branches silence the same channels
      zeros.set(group, z);
    }
    const slim = structuredPrune(model, { ratio: 0.5, criterion: 'bn' });
    for (const [g, kept] of Object.entries(slim.kept))
      expect(
        kept.every((c) => !zeros.get(g)![c]),
        g,
      ).toBe(true);
    const x = probe();
    expectClose(out(slim.model, x), out(model, x), { atol: 1e-5 });
    expect(slim.model.countParams()).toBeLessThan(model.countParams() * 0.4);
    for (const m of [model, slim.model]) m.dispose();
  }, 120_000);
});
