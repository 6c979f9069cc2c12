/**
 * Class priors: how often each class occurs where a model is used. A classifier's probabilities carry the prior
 * of its training set (FER2013's Training split: happy 25%, disgust 1.5%); faces elsewhere come with another.
 * `--prior` says which, and the probabilities are moved to it by Bayes' rule (p(c|x) ∝ p_train(c|x) · π(c) /
 * π_train(c): the standard correction for a change of label prior, the face's likelihood unchanged), and
 * `fer eval` reports the accuracy expected at that prior.
 */
import { optionOf, UsageError } from '../errors.js';
import { readUserJsonFile } from '../io/files.js';
import { FER2013_CLASSES } from './classes.js';

/** FER2013 Training's images per class (28,709 in all): the prior of models that record none. */
export const FER2013_TRAIN_COUNTS: Readonly<Record<string, number>> = {
  angry: 3995,
  disgust: 436,
  fear: 4097,
  happy: 7215,
  sad: 4830,
  surprise: 3171,
  neutral: 4965,
};

/** `train` (as trained: no change), `uniform`, `happy=0.3,neutral=0.4,…`, a JSON file of such weights, or the weights. */
export type PriorSpec = string | Readonly<Record<string, number>>;

/** Counts or weights by class name → a distribution over `classes` (every class present, each > 0). */
export function priorFromWeights(weights: Readonly<Record<string, number>>, classes: readonly string[], where = 'prior'): Float64Array {
  const at = { option: optionOf(where) }; // the CLI says --prior
  const unknown = Object.keys(weights).filter((c) => !classes.includes(c));
  if (unknown.length) throw new UsageError(`${where}: ${unknown.join(', ')} not among the model's classes (${classes.join(', ')})`, at);
  for (const [c, w] of Object.entries(weights))
    if (!(Number.isFinite(w) && w >= 0)) throw new UsageError(`${where}: ${c}=${w} is not a weight ≥ 0`, at);
  const named = classes.filter((c) => Object.hasOwn(weights, c));
  const sum = named.reduce((a, c) => a + weights[c], 0);
  const rest = classes.filter((c) => !Object.hasOwn(weights, c));
  // Classes left out share what the named ones leave of 1 (weights given as fractions); with nothing left, error.
  if (rest.length && sum >= 1)
    throw new UsageError(`${where}: the named classes already sum to ${+sum.toFixed(4)}; give every class, or fractions under 1`, {
      ...at,
      hint: `missing: ${rest.join(', ')}`,
    });
  const p = Float64Array.from(classes, (c) => (Object.hasOwn(weights, c) ? weights[c] : (1 - sum) / rest.length));
  const total = p.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new UsageError(`${where}: the weights sum to 0`, at);
  for (let i = 0; i < p.length; i++) p[i] /= total;
  const zero = classes.filter((_, i) => p[i] === 0);
  if (zero.length) throw new UsageError(`${where}: ${zero.join(', ')} would never be predicted (prior 0); give a small weight instead`, at);
  return p;
}

/** Errors about the prior name it as the library's option (the CLI says --prior). */
const PRIOR = { option: 'prior' };

/** `happy=0.3,neutral=0.4` → { happy: 0.3, neutral: 0.4 }; a path ending .json → its JSON object. */
function parseWeights(spec: string): Record<string, number> {
  if (spec.endsWith('.json')) {
    const raw = readUserJsonFile(spec, 'prior');
    if (!raw || typeof raw !== 'object' || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'number'))
      throw new UsageError(`prior ${spec}: expected {"class": weight, …}`, PRIOR);
    if (Object.keys(raw).length === 0) throw new UsageError(`prior ${spec}: names no class`, PRIOR);
    return raw as Record<string, number>;
  }
  if (!spec.includes('=')) throw new UsageError(`prior ${spec}: expected train, uniform, class=weight,… or a .json file`, PRIOR);
  const weights: Record<string, number> = {};
  for (const kv of spec.split(',').filter((s) => s.trim() !== '')) {
    const at = kv.lastIndexOf('=');
    const k = kv.slice(0, Math.max(0, at)).trim(),
      v = at < 0 ? '' : kv.slice(at + 1).trim();
    if (!k) throw new UsageError(`prior ${spec}: "${kv.trim()}" names no class`, PRIOR);
    if (Object.hasOwn(weights, k)) throw new UsageError(`prior ${spec}: ${k} is given twice`, PRIOR);
    weights[k] = v === '' ? NaN : Number(v);
  }
  return weights;
}

/** The distribution a spec names over `classes`; null for `train` (the model's own prior: nothing to change). */
export function resolvePrior(spec: PriorSpec, classes: readonly string[]): Float64Array | null {
  if (spec === 'train') return null;
  if (spec === 'uniform') return new Float64Array(classes.length).fill(1 / classes.length);
  return priorFromWeights(typeof spec === 'string' ? parseWeights(spec) : spec, classes);
}

/**
 * The prior a model was trained at: the one it records (`fer train` writes it), else FER2013 Training's when its
 * classes are FER2013's seven, else null (unknown). Never throws: a record that gives a class 0 (it had no training
 * image) or is not a set of weights over the classes counts as none, and moving such a model is refused where asked.
 */
export function trainedPrior(classes: readonly string[], recorded?: Readonly<Record<string, number>> | null): Float64Array | null {
  if (recorded) {
    const w = classes.map((c) => (Object.hasOwn(recorded, c) ? recorded[c] : NaN));
    return w.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)
      ? priorFromWeights(recorded, classes, 'the model’s recorded prior')
      : null;
  }
  const fer2013 = classes.length === FER2013_CLASSES.length && classes.every((c, i) => c === FER2013_CLASSES[i]);
  return fer2013 ? priorFromWeights(FER2013_TRAIN_COUNTS, classes) : null;
}

/** The prior an ONNX file records (its `train_prior` metadata, JSON), if it is fer's. */
export function onnxRecordedPrior(metadata: Readonly<Record<string, string>>): Record<string, number> | undefined {
  try {
    const v = JSON.parse(metadata.train_prior ?? 'null') as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, number>) : undefined;
  } catch {
    return undefined; // not fer's metadata
  }
}

/**
 * The move `spec` asks of a model over `classes` whose training prior `trained()` gives: none for `train`;
 * a model that records no prior (and is not FER2013's) cannot be moved: a usage error.
 */
export function priorShift(
  spec: PriorSpec,
  classes: readonly string[],
  trained: () => Float64Array | null,
  model: string,
): { from: Float64Array; to: Float64Array } | undefined {
  const to = resolvePrior(spec, classes);
  if (!to) return undefined;
  const from = trained();
  if (!from)
    throw new UsageError(`prior: ${model} records no training prior (trained before fer recorded one, or elsewhere)`, {
      ...PRIOR,
      hint: 'retrain or re-export it with this fer, or leave the prior at train',
    });
  return { from, to };
}

/**
 * The class prior a model trained on these class counts learns (what `fer train` records): the frequencies, each
 * mixed with the uniform share as label smoothing `s` mixes the targets ((1 − s)·n_c/n + s/k).
 */
export function frequencies(counts: readonly number[], classes: readonly string[], labelSmoothing = 0): Record<string, number> {
  const n = counts.reduce((a, b) => a + b, 0) || 1,
    k = classes.length;
  return Object.fromEntries(classes.map((c, i) => [c, +((1 - labelSmoothing) * (counts[i] / n) + labelSmoothing / k).toPrecision(6)]));
}

/** Rows of probabilities [n × k] moved from prior `from` to prior `to`: each p_c · to_c / from_c, renormalized. */
export function shiftPrior(probs: Float32Array, k: number, from: ArrayLike<number>, to: ArrayLike<number>): Float32Array {
  const ratio = Float64Array.from({ length: k }, (_, c) => to[c] / from[c]);
  const out = new Float32Array(probs.length);
  for (let r = 0; r < probs.length; r += k) {
    let s = 0;
    for (let c = 0; c < k; c++) s += probs[r + c] * ratio[c];
    for (let c = 0; c < k; c++) out[r + c] = s > 0 ? (probs[r + c] * ratio[c]) / s : probs[r + c];
  }
  return out;
}

/** The accuracy expected where classes occur at `prior`: Σ π_c · recall_c (the per-class recalls of a labelled set). */
export function accuracyAtPrior(recalls: readonly number[], prior: ArrayLike<number>): number {
  let a = 0;
  for (let c = 0; c < recalls.length; c++) a += prior[c] * recalls[c];
  return a;
}
