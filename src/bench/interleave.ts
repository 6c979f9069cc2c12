/**
 * Interleaved timing for a noisy machine: the models a bench compares run in rounds (A B, B A, A B, …), each
 * round running every model's timed batch in turn, so a burst of someone else's load lands on all of them, and
 * the order changes per round so that no model always goes first (after a switch, or right after another
 * session's threads). Per round, each model's median and its ratio to the first model's are taken; those are
 * summarised (median, quartiles, min–max), so one run's ratio carries its own spread. Pure logic: the clock,
 * the CPU counter and the random source can be injected (the unit tests time hand-made runs).
 */
import { UsageError } from '../errors.js';

/** `rotate`: round r starts at model r (mod n); `random`: a fresh shuffle each round. */
export const ROUND_ORDERS = ['rotate', 'random'] as const;
export type RoundOrder = (typeof ROUND_ORDERS)[number];

/** `fer bench`'s default number of rounds. */
export const DEFAULT_ROUNDS = 10;

/** The order in which `n` models run in round `round` (0-based). */
export function roundOrder(n: number, round: number, order: RoundOrder = 'rotate', random: () => number = Math.random): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (order === 'rotate') return idx.map((i) => (i + round) % n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

/** A seeded uniform [0, 1) source (mulberry32), for a `random` order that a run can repeat. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The q-quantile (0–1) of ascending `sorted`, linearly interpolated between ranks (the median of [1, 2] is 1.5). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = Math.min(1, Math.max(0, q)) * (sorted.length - 1);
  const lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** A figure over rounds: its median, interquartile range and min–max. */
export interface Spread {
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

/** One timed model: `run` does one batch (awaited); its wall time is one sample. */
export interface InterleaveCase {
  run: () => Promise<unknown> | unknown;
}

export interface InterleaveOptions {
  /** Rounds (≥ 1); with `iterations`, at most one round per timed run. */
  rounds: number;
  /** Untimed runs of every case before the first round. */
  warmup: number;
  /** Timed runs per case in all, shared out over the rounds as evenly as possible. */
  iterations?: number;
  /** Seconds per case in all (overrides iterations): each round's turn lasts duration / rounds. */
  duration?: number;
  order?: RoundOrder;
  random?: () => number;
  /** Milliseconds (default performance.now). */
  now?: () => number;
  /** CPU time of the process in microseconds (default process.cpuUsage user + system). */
  cpuMicros?: () => number;
  /** Untimed runs at the start of every turn, after the switch from another model (default 1). */
  rewarm?: number;
  /** Called with 0 as the timed rounds start, then after each round (1-based), with the number of rounds. */
  onRound?: (round: number, rounds: number) => void;
}

export interface InterleaveTimings {
  /** The model order of each round (the same for every group). */
  orders: number[][];
  /** times[g][m][r]: the milliseconds of each timed run of model m in group g during round r. */
  times: number[][][][];
  /** Seconds of wall and CPU time spent in each case's timed turns, [g][m]. */
  wall: number[][];
  cpu: number[][];
}

/** Timed runs per round: `total` shared out over `rounds` (earlier rounds take the remainder). */
export function splitIterations(total: number, rounds: number): number[] {
  return Array.from({ length: rounds }, (_, r) => Math.floor(total / rounds) + (r < total % rounds ? 1 : 0));
}

/**
 * Runs `groups` (e.g. one per batch size; each holds the same models, in the same order) interleaved: warm-up
 * of every case, then each round visits every group and, within it, every model in that round's order.
 */
export async function interleave(groups: readonly (readonly InterleaveCase[])[], o: InterleaveOptions): Promise<InterleaveTimings> {
  const now = o.now ?? (() => performance.now());
  const cpuMicros =
    o.cpuMicros ??
    (() => {
      const u = process.cpuUsage();
      return u.user + u.system;
    });
  const n = groups[0]?.length ?? 0;
  if (groups.some((g) => g.length !== n)) throw new UsageError('interleave: every group needs the same models');
  const rounds = Math.max(1, o.duration ? o.rounds : Math.min(o.rounds, o.iterations ?? 50));
  const perRound = o.duration ? null : splitIterations(o.iterations ?? 50, rounds);
  const random = o.random ?? Math.random;
  const rewarm = o.rewarm ?? 1;
  const times = groups.map((g) => g.map(() => Array.from({ length: rounds }, () => [] as number[])));
  const wall = groups.map((g) => g.map(() => 0));
  const cpu = groups.map((g) => g.map(() => 0));
  const orders: number[][] = [];
  for (let r = 0; r < rounds; r++) orders.push(roundOrder(n, r, o.order ?? 'rotate', random));
  for (const g of groups) for (const m of orders[0] ?? []) for (let i = 0; i < o.warmup; i++) await g[m].run();
  o.onRound?.(0, rounds);
  for (let r = 0; r < rounds; r++) {
    for (const [gi, g] of groups.entries()) {
      for (const m of orders[r]) {
        for (let i = 0; i < rewarm; i++) await g[m].run();
        const out = times[gi][m][r];
        const t0 = now(),
          c0 = cpuMicros();
        const until = o.duration ? t0 + (o.duration * 1000) / rounds : Infinity;
        const count = perRound ? perRound[r] : Infinity;
        // A duration turn always times at least one run, however slow the model.
        for (let i = 0; i < count && (i === 0 || now() < until); i++) {
          const s = now();
          await g[m].run();
          out.push(now() - s);
        }
        wall[gi][m] += (now() - t0) / 1000;
        cpu[gi][m] += (cpuMicros() - c0) / 1e6;
      }
    }
    o.onRound?.(r + 1, rounds);
  }
  return { orders, times, wall, cpu };
}

/** One model's rounds in one group: its per-round p50s and img/s, and their ratios to the first model's. */
export interface RoundSummary {
  rounds: number;
  /** Over rounds, each round's median latency of one run (ms). */
  latencyP50Ms: Spread;
  /** Over rounds, each round's images per second (batch × runs / their total time). */
  throughput: Spread;
  /** Per round, this model's p50 / the first model's p50, and its img/s / the first's; absent for the first. */
  vsFirst?: { latency: Spread; throughput: Spread };
}

/** Per-round p50 (ms) and img/s of one case's rounds (rounds that timed nothing are skipped). */
export function roundFigures(rounds: readonly (readonly number[])[], batch: number): { p50: number[]; throughput: number[] } {
  const timed = rounds.filter((t) => t.length > 0);
  return {
    p50: timed.map((t) => median(t)),
    throughput: timed.map((t) => (batch * t.length) / (t.reduce((a, b) => a + b, 0) / 1000)),
  };
}

/** The summaries of one group's models (times[m][r] as `interleave` returns them for a group). */
export function summarizeRounds(times: readonly (readonly (readonly number[])[])[], batch: number): RoundSummary[] {
  const figs = times.map((rounds) => roundFigures(rounds, batch));
  const base = figs[0];
  return figs.map((f, m) => {
    const s: RoundSummary = { rounds: f.p50.length, latencyP50Ms: spread(f.p50), throughput: spread(f.throughput) };
    if (m > 0 && base) {
      // Ratios are taken round by round (the two models timed side by side), never of the pooled figures.
      const both = times[m].map((t, r) => (t.length && times[0][r].length ? r : -1)).filter((r) => r >= 0);
      const mine = roundFigures(
        both.map((r) => times[m][r]),
        batch,
      );
      const first = roundFigures(
        both.map((r) => times[0][r]),
        batch,
      );
      s.vsFirst = {
        latency: spread(mine.p50.map((v, i) => v / first.p50[i])),
        throughput: spread(mine.throughput.map((v, i) => v / first.throughput[i])),
      };
    }
    return s;
  });
}
