/**
 * What the public types say about models, with no tfjs import: the package's root declarations name these, so
 * a strict consumer (`skipLibCheck: false`) never loads tfjs's own .d.ts, which do not compile strict.
 */

/**
 * A tfjs `LayersModel` as fer's public declarations name it: what fer's functions return is a real
 * `tf.LayersModel` (cast it to use the rest of tfjs's API), and any tfjs LayersModel can be passed where one is
 * taken. Structural, so that the types need no tfjs.
 */
export interface LayersModelLike {
  readonly name: string;
  countParams(): number;
  dispose(): unknown;
}

export interface FerMetadata {
  classes: readonly string[];
  preprocess: { scale: number; offset: number };
  arch?: string;
  /** Per-layer masks are not stored: pruned weights are stored as zeros. */
  pruning?: { sparsity: number; pattern: string; perLayer: Record<string, number> };
  quantization?: {
    bits: number;
    granularity: 'per-tensor' | 'per-channel';
    /** Activation ranges per layer output name, from calibration: max |x|. */
    activations?: Record<string, number>;
  };
  trainedWith?: Record<string, unknown>;
  /** The training set's class frequencies by name (`fer train` records them): the prior `--prior` moves probabilities from. */
  trainPrior?: Record<string, number>;
  /** Set by `fer prune --structured`: the channels removed (a smaller dense network; no masks to hold). */
  structured?: {
    ratio: number;
    criterion: string;
    multiple: number;
    channels: { stem: number[]; inner: number[]; out: number[] };
    from: string;
  };
  /** Set by `fer average`: the snapshots whose weights this model's are the mean of. */
  averagedFrom?: string[];
}

export interface TransplantReport {
  copied: number;
  /** Target weights left as initialised (shape differs or the source has no weight at that position). */
  skipped: string[];
  /** A transfer to other classes: the classes whose head weights came from the source (by name). */
  headFrom?: string[];
}
