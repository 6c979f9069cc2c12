/**
 * BatchNormalization whose training path runs fer's fused kernels (engine/kernels/batch-norm-train.ts).
 * It serializes as the standard Keras `BatchNormalization`, and is registered under that class name, so
 * models saved by fer load in any tfjs, and models from elsewhere load into the fast path.
 */
import { tf } from '../engine/tf.js';
import { batchNormTrain } from '../engine/kernels/batch-norm-train.js';
import { batchNormInternals, layerClassOf } from '../engine/tfjs-internals.js';

/** Switches of fer's batch norm. */
export const batchNormSettings = {
  /** Off: train through tfjs's own moments() + batchNorm() (the independent reference in tests). */
  fused: true,
};

/** The class name fer's batch norm serializes as (the standard Keras one). */
export const BATCH_NORM_CLASS = 'BatchNormalization';

type LayerClass = new (args: Record<string, unknown>) => tf.layers.Layer;
let ferBatchNormClass: LayerClass | undefined;

/**
 * fer's BatchNormalization class, made and registered with tfjs's serialization on first use (not at
 * import: importing fer leaves tfjs's class registry and layer-name counters as they were).
 */
export function registerFerLayers(): LayerClass {
  if (ferBatchNormClass) return ferBatchNormClass;
  // tfjs-layers does not export the class itself; take it from an instance.
  const Base = layerClassOf(tf.layers.batchNormalization({}));
  class FerBatchNormalization extends Base {
    static className = BATCH_NORM_CLASS;

    override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
      const self = batchNormInternals(this);
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const axis = Array.isArray(self.axis) ? self.axis : [self.axis];
      const lastAxis = axis.length === 1 && (axis[0] === -1 || axis[0] === x.rank - 1);
      if (!batchNormSettings.fused || !kwargs?.training || !lastAxis || !self.gamma || !self.beta) return super.call(inputs, kwargs);
      return tf.tidy(() => {
        const [y, mean, variance] = batchNormTrain(x, self.gamma!.read(), self.beta!.read(), self.epsilon);
        const decay = 1 - self.momentum;
        for (const [v, value] of [
          [self.movingMean, mean],
          [self.movingVariance, variance],
        ] as const) {
          tf.tidy(() => {
            const orig = v.read();
            v.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
          });
        }
        return y;
      });
    }
  }
  tf.serialization.registerClass(
    FerBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
  );
  ferBatchNormClass = FerBatchNormalization;
  return ferBatchNormClass;
}

export function batchNorm(name?: string): tf.layers.Layer {
  const FerBatchNormalization = registerFerLayers();
  return new FerBatchNormalization(name ? { name } : {});
}
