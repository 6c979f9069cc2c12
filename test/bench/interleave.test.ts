/**
 * The interleaving scheduler and its statistics on hand-made timings: which model runs when (order rotated or
 * shuffled per round), how timed runs are shared out over rounds, and the per-round medians, spreads and ratios.
 * No speed is asserted: every clock here is fake.
 */
import { describe, it, expect } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  interleave,
  median,
  quantile,
  roundOrder,
  seededRandom,
  splitIterations,
  spread,
  summarizeRounds,
  type InterleaveCase,
} from '../../src/bench/interleave.js';

/** Cases whose runs advance a fake clock by a set number of ms (per call, from a list) and log their name. */
function fakeCases(spec: Record<string, number | ((call: number) => number)>) {
  let clock = 0;
  const log: string[] = [];
  const cases: InterleaveCase[] = Object.entries(spec).map(([name, ms]) => {
    let call = 0;
    return {
      run: () => {
        log.push(name);
        clock += typeof ms === 'number' ? ms : ms(call++);
      },
    };
  });
  return { cases, log, now: () => clock, cpuMicros: () => clock * 500 }; // "half a core busy"
}

describe('round order', () => {
  it('rotates: round r starts at model r, so each model goes first equally often', () => {
    expect([0, 1, 2, 3].map((r) => roundOrder(2, r))).toEqual([
      [0, 1],
      [1, 0],
      [0, 1],
      [1, 0],
    ]);
    const three = [0, 1, 2].map((r) => roundOrder(3, r, 'rotate'));
    expect(three).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ]);
    expect(three.map((o) => o[0]).sort()).toEqual([0, 1, 2]);
    expect(roundOrder(1, 5)).toEqual([0]);
  });

  it('random: a permutation per round, repeatable from a seed, and no model always first', () => {
    const a = seededRandom(7),
      b = seededRandom(7);
    const orders = Array.from({ length: 40 }, (_, r) => roundOrder(4, r, 'random', a));
    expect(Array.from({ length: 40 }, (_, r) => roundOrder(4, r, 'random', b))).toEqual(orders);
    for (const o of orders) expect([...o].sort()).toEqual([0, 1, 2, 3]);
    expect(new Set(orders.map((o) => o[0])).size).toBe(4);
  });
});

describe('interleave', () => {
  it('warms every case, then runs every group in each round in that round’s order, re-warming each turn', async () => {
    const { cases, log, now, cpuMicros } = fakeCases({ A1: 1, B1: 1, A64: 1, B64: 1 });
    const groups = [cases.slice(0, 2), cases.slice(2)];
    const t = await interleave(groups, { rounds: 2, warmup: 1, iterations: 4, now, cpuMicros, rewarm: 1 });
    expect(t.orders).toEqual([
      [0, 1],
      [1, 0],
    ]);
    // warm-up: one run each; then per round and group: one untimed run + 2 timed runs per model, in order
    const warm = ['A1', 'B1', 'A64', 'B64'];
    const round0 = ['A1', 'A1', 'A1', 'B1', 'B1', 'B1', 'A64', 'A64', 'A64', 'B64', 'B64', 'B64'];
    const round1 = ['B1', 'B1', 'B1', 'A1', 'A1', 'A1', 'B64', 'B64', 'B64', 'A64', 'A64', 'A64'];
    expect(log).toEqual([...warm, ...round0, ...round1]);
    expect(t.times[0][0]).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(t.times.flat(3)).toHaveLength(16);
  });

  it('times each run on the clock and sums each case’s wall and CPU time over its timed turns', async () => {
    const { cases, now, cpuMicros } = fakeCases({ A: (i) => [5, 2, 4, 6, 8, 3][i] ?? 1, B: 3 });
    const t = await interleave([cases], { rounds: 2, warmup: 0, iterations: 4, now, cpuMicros });
    // A's calls: round 0: rewarm 5, timed 2, 4; round 1: rewarm 6, timed 8, 3
    expect(t.times[0][0]).toEqual([
      [2, 4],
      [8, 3],
    ]);
    expect(t.times[0][1]).toEqual([
      [3, 3],
      [3, 3],
    ]);
    expect(t.wall[0][0]).toBeCloseTo(0.017);
    expect(t.cpu[0][0]).toBeCloseTo(0.0085);
  });

  it('shares the timed runs out over the rounds, and never makes more rounds than runs', async () => {
    expect(splitIterations(10, 4)).toEqual([3, 3, 2, 2]);
    expect(splitIterations(3, 3)).toEqual([1, 1, 1]);
    const { cases, now, cpuMicros } = fakeCases({ A: 1, B: 1 });
    const t = await interleave([cases], { rounds: 10, warmup: 0, iterations: 3, now, cpuMicros });
    expect(t.orders).toHaveLength(3);
    expect(t.times[0].map((m) => m.flat().length)).toEqual([3, 3]);
    const rounds: number[] = [];
    await interleave([cases], { rounds: 4, warmup: 0, iterations: 8, now, cpuMicros, onRound: (r, n) => rounds.push(r * 10 + n) });
    expect(rounds).toEqual([4, 14, 24, 34, 44]); // 0 as the timed rounds start (a progress line's ETA counts from there)
  });

  it('with a duration, each turn lasts duration / rounds (at least one run, however slow)', async () => {
    const { cases, now, cpuMicros } = fakeCases({ fast: 100, slow: 2000 });
    const t = await interleave([cases], { rounds: 2, warmup: 0, duration: 1, now, cpuMicros, rewarm: 0 });
    expect(t.times[0][0].map((r) => r.length)).toEqual([5, 5]);
    expect(t.times[0][1].map((r) => r.length)).toEqual([1, 1]);
  });

  it("refuses groups with different numbers of models: a caller's usage error (exit 2), not fer's bug", async () => {
    const { cases } = fakeCases({ A: 1, B: 1 });
    await expect(interleave([cases, [cases[0]]], { rounds: 1, warmup: 0 })).rejects.toThrow(/same models/);
    await expect(interleave([cases, [cases[0]]], { rounds: 1, warmup: 0 })).rejects.toThrow(UsageError);
  });
});

describe('statistics over rounds', () => {
  it('median and quartiles interpolate between ranks; spread gives median, IQR and min–max', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([1, 2, 3, 4], 0.75)).toBe(3.25);
    expect(quantile([], 0.5)).toBeNaN();
    expect(spread([10, 2, 8, 4, 6])).toEqual({ median: 6, p25: 4, p75: 8, min: 2, max: 10 });
    expect(spread([5])).toEqual({ median: 5, p25: 5, p75: 5, min: 5, max: 5 });
  });

  it('per round: p50 and img/s of each model, and its ratio to the first model in the same round', () => {
    // times[m][r], ms per run, batch 2
    const times = [
      [
        [1, 1, 1],
        [2, 2, 2],
        [4, 4, 4],
      ],
      [
        [0.5, 0.5, 0.5],
        [1.5, 1.5, 1.5],
        [2, 2, 2],
      ],
    ];
    const [a, b] = summarizeRounds(times, 2);
    expect(a.rounds).toBe(3);
    expect(a.vsFirst).toBeUndefined();
    expect(a.latencyP50Ms).toEqual({ median: 2, p25: 1.5, p75: 3, min: 1, max: 4 });
    expect(a.throughput.median).toBeCloseTo(1000); // 2 images / 2 ms
    expect(b.vsFirst!.latency).toEqual({ median: 0.5, p25: 0.5, p75: 0.625, min: 0.5, max: 0.75 });
    expect(b.vsFirst!.throughput.median).toBeCloseTo(2);
    expect(b.vsFirst!.throughput.min).toBeCloseTo(4 / 3);
  });

  it('a burst of load that slows one round slows both models alike: the per-round ratio does not move', () => {
    const quiet = [0.2, 0.21, 0.2];
    const loaded = quiet.map((t) => t * 5);
    const times = [
      [quiet, loaded, quiet],
      [quiet.map((t) => t * 0.8), loaded.map((t) => t * 0.8), quiet.map((t) => t * 0.8)],
    ];
    const [a, b] = summarizeRounds(times, 1);
    expect(a.latencyP50Ms.max / a.latencyP50Ms.min).toBeCloseTo(5); // the absolute p50 swings 5×
    expect(b.vsFirst!.latency.min).toBeCloseTo(0.8);
    expect(b.vsFirst!.latency.max).toBeCloseTo(0.8);
    expect(b.vsFirst!.throughput.median).toBeCloseTo(1.25);
  });

  it('skips rounds in which a model timed nothing, and pairs ratios only on rounds both timed', () => {
    const [, b] = summarizeRounds(
      [
        [[1], [], [2]],
        [[0.5], [9], [1.5]],
      ],
      1,
    );
    expect(b.rounds).toBe(3);
    expect(b.vsFirst!.latency.min).toBe(0.5);
    expect(b.vsFirst!.latency.max).toBe(0.75);
  });
});
