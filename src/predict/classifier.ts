/** The emotion classifier behind `fer predict`: an ONNX model on onnxruntime-node, or a tfjs model. */
import { existsSync } from 'node:fs';
import { checkClassifierInput, inspectOnnx } from '../onnx/inspect.js';
import { createSession, type FerSession, type Provider } from '../runtime/ort.js';
import { onnxProbs } from '../runtime/onnx-probs.js';
import { loadModel } from '../model/io.js';
import { prepareQuantized } from '../quantize/model.js';
import { predictProbs, type Tta } from '../eval/probs.js';
import { DEFAULT_MODEL, DEFAULT_ONNX } from '../model/default.js';
import { UsageError } from '../errors.js';
import { mergesOutputs, probabilityMerger } from '../data/classes.js';
import { onnxRecordedPrior, priorShift, shiftPrior, trainedPrior, type PriorSpec } from '../data/prior.js';

export interface Classifier {
  kind: 'onnx' | 'tfjs';
  path: string;
  /** The model's class names, in the order of its probabilities. */
  classes: string[];
  /** What runs it: the onnxruntime-node execution provider (cpu, cuda, tensorrt), or `tfjs`. */
  provider: string;
  /** Set when the provider is not the first one asked for (which was missing, and why). */
  providerNote?: string;
  /** The class prior its probabilities carry (its training set's; FER2013's for models that record none), or null: unknown. */
  trainPrior: Float64Array | null;
  /** Probabilities [n × classes] for n 48×48 grayscale faces. */
  classify(faces: Uint8Array, n: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * `tta` flip (the default): each face is classified with its mirror image and the two averaged. `providers`:
 * onnxruntime-node execution providers in order of preference (runtime/ort.ts chooseProvider; default cpu).
 */
export async function loadClassifier(
  p?: string,
  tta: Tta = 'flip',
  threads?: number,
  providers: { executionProviders?: readonly Provider[]; fallback?: boolean } = {},
): Promise<Classifier> {
  const file = p ?? (existsSync(DEFAULT_ONNX) ? DEFAULT_ONNX : DEFAULT_MODEL);
  if (!existsSync(file)) throw new UsageError(`predict: no such model: ${file}`);
  if (file.endsWith('.onnx')) {
    const info = inspectOnnx(file);
    checkClassifierInput(info, file);
    const { layout } = info;
    const session: FerSession = await createSession(file, { ...providers, ...(threads ? { threads } : {}) });
    return {
      kind: 'onnx',
      path: file,
      classes: info.classes,
      trainPrior: trainedPrior(info.classes, onnxRecordedPrior(info.metadata)),
      provider: session.provider,
      ...(session.note ? { providerNote: session.note } : {}),
      async classify(faces, n) {
        if (n === 0) return new Float32Array(0);
        return onnxProbs(session, layout, faces, n, tta);
      },
      release: () => session.release(),
    };
  }
  if (providers.executionProviders?.some((x) => x !== 'cpu'))
    throw new UsageError(`predict: executionProviders are onnxruntime's: ${file} is a tfjs model (give an .onnx file)`);
  const { model, meta } = await loadModel(file);
  prepareQuantized(model, meta);
  return {
    kind: 'tfjs',
    path: file,
    classes: [...meta.classes],
    trainPrior: trainedPrior(meta.classes, meta.trainPrior),
    provider: 'tfjs',
    async classify(faces, n) {
      return n === 0 ? new Float32Array(0) : predictProbs(model, faces, n, tta);
    },
    async release() {
      model.dispose();
    },
  };
}

/**
 * The classifier seen through a class map: its probabilities summed into the map's classes (e.g. FER2013's
 * seven into negative / neutral / positive), with no retraining. Maps whose classes are the model's own are
 * not merges (the model was trained on them): the classifier is returned as it is.
 */
export function mergedClassifier(c: Classifier, map: Record<string, readonly string[]>): Classifier {
  if (!mergesOutputs(c.classes, map)) return c;
  const m = probabilityMerger(c.classes, map);
  return { ...c, classes: m.classes, classify: async (faces, n) => m.merge(await c.classify(faces, n)) };
}

/** The classifier with its probabilities moved to the class prior `spec` names (data/prior.ts); as it is for `train`. */
export function priorClassifier(c: Classifier, spec: PriorSpec): Classifier {
  const shift = priorShift(spec, c.classes, () => c.trainPrior, c.path);
  if (!shift) return c;
  const k = c.classes.length;
  return { ...c, trainPrior: shift.to, classify: async (faces, n) => shiftPrior(await c.classify(faces, n), k, shift.from, shift.to) };
}
