/**
 * Class sets. FER2013's seven emotions, in its label order, are the default; a dataset of other class
 * folders (or a CSV whose label column holds names) brings its own, and `--classes` / `--class-map` select,
 * order and merge them. A model stores the names and their order in its metadata, and every stage reads
 * them from there. Pure (no Node built-ins): the browser entry uses it too.
 */
import { UsageError } from '../errors.js';

/** FER2013's label order: the default class set. */
export const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export const FER2013_CLASSES: readonly string[] = CLASSES;
/** FER2013's class count (a model's own is `meta.classes.length`). */
export const NUM_CLASSES = CLASSES.length;
export const IMAGE_SIZE = 48;

/** How a dataset's source labels become the trained classes. */
export interface ClassSpec {
  /** Select and order these classes (after merging); other images are dropped. */
  classes?: readonly string[];
  /** Merge: each target class lists the source labels it takes (e.g. negative: [angry, disgust, fear, sad]). */
  map?: Record<string, readonly string[]>;
}

export interface ClassPlan {
  classes: string[];
  /** Index of a source label among `classes`, or -1 when it is not trained (dropped). */
  indexOf(source: string): number;
}

const NAME = /^[\p{L}\p{N}][\p{L}\p{N} _.+-]{0,63}$/u;

export function checkClassName(name: string, where: string): string {
  if (!NAME.test(name))
    throw new UsageError(`${where}: "${name.slice(0, 40)}" is not a usable class name (letters, digits, space, _ . + -; at most 64)`);
  return name;
}

/**
 * The classes trained from a dataset whose labels are `sourceNames`: the map's targets, else the spec's
 * classes, else FER2013's seven when every source name is one of them, else the source names sorted.
 */
export function planClasses(sourceNames: readonly string[], spec: ClassSpec = {}): ClassPlan {
  const target = new Map<string, string>();
  let classes: string[];
  if (spec.map) {
    for (const [to, froms] of Object.entries(spec.map)) {
      checkClassName(to, 'class map');
      for (const f of froms) {
        if (target.has(f)) throw new UsageError(`class map: "${f}" is merged into both "${target.get(f)}" and "${to}"`);
        target.set(f, to);
      }
    }
    classes = Object.keys(spec.map);
  } else {
    for (const s of sourceNames) target.set(s, s);
    classes = sourceNames.every((s) => FER2013_CLASSES.includes(s)) ? [...FER2013_CLASSES] : [...new Set(sourceNames)].sort();
  }
  if (spec.classes) {
    const unknown = spec.classes.filter((c) => !classes.includes(c));
    if (unknown.length && spec.map)
      throw new UsageError(`classes: "${unknown[0]}" is not a class of the class map (${classes.join(', ')})`);
    if (new Set(spec.classes).size !== spec.classes.length)
      throw new UsageError(`classes: a class is named twice in ${spec.classes.join(',')}`);
    classes = spec.classes.map((c) => checkClassName(c, 'classes'));
  }
  if (classes.length < 2)
    throw new UsageError(`classes: a classifier needs at least 2 classes, got ${classes.length ? classes.join(', ') : 'none'}`);
  const index = new Map(classes.map((c, i) => [c, i]));
  return { classes, indexOf: (s) => index.get(target.get(s) ?? '\0') ?? -1 };
}

/** `--classes a,b,c` */
export function parseClassList(s: string): string[] {
  return s
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
}

/**
 * Whether a class map applied to a model of `modelClasses` merges its probabilities: it does unless the map's
 * classes are the model's own (a model trained with that map, whose data's labels the map merges instead).
 */
export function mergesOutputs(modelClasses: readonly string[], map: Record<string, readonly string[]>): boolean {
  const targets = Object.keys(map);
  return !(targets.length === modelClasses.length && targets.every((t) => modelClasses.includes(t)));
}

/**
 * A model's probabilities merged into a class map's classes without retraining: each merged class's
 * probability is the sum of its source classes' (every source must be one of the model's classes; model
 * classes in no merged class are left out and each row renormalized). Returns the merged classes and a
 * function mapping probabilities [n × model classes] to [n × merged classes].
 */
export function probabilityMerger(
  modelClasses: readonly string[],
  map: Record<string, readonly string[]>,
): {
  classes: string[];
  merge(probs: Float32Array): Float32Array;
} {
  const classes = Object.keys(map).map((c) => checkClassName(c, 'class map'));
  const columns = classes.map((c) =>
    map[c].map((src) => {
      const j = modelClasses.indexOf(src);
      if (j < 0)
        throw new UsageError(`class map: "${src}" (merged into "${c}") is not one of the model's classes (${modelClasses.join(', ')})`);
      return j;
    }),
  );
  const k = modelClasses.length;
  return {
    classes,
    merge(probs) {
      const n = probs.length / k,
        out = new Float32Array(n * classes.length);
      for (let i = 0; i < n; i++) {
        let total = 0;
        columns.forEach((cols, c) => {
          let s = 0;
          for (const j of cols) s += probs[i * k + j];
          out[i * classes.length + c] = s;
          total += s;
        });
        if (total > 0) for (let c = 0; c < classes.length; c++) out[i * classes.length + c] /= total;
      }
      return out;
    },
  };
}
