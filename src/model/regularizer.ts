/**
 * tfjs-layers' L1L2 regularizer whose L2-only penalty runs as one fused kernel where the backend has it
 * (engine/fused-grads.ts: fer-native), with the same value and gradient bits as tfjs's ops; any other case runs
 * tfjs's own apply. It serializes as, and is registered under, the standard `L1L2` class name (as fer's batch
 * norm is), so saved models are unchanged and models loaded from disk take the fused path too.
 */
import { tf } from '../engine/tf.js';
import { l2Penalty } from '../engine/fused-grads.js';

interface L1L2Fields {
  hasL1: boolean;
  hasL2: boolean;
  l2: number;
}
type Regularizer = ReturnType<typeof tf.regularizers.l2>;
/** The concrete L1L2 class's shape (tfjs's typings export only the abstract Regularizer). */
type RegularizerClass = new (args: { l1?: number; l2?: number }) => {
  apply(x: tf.Tensor): tf.Scalar;
  getConfig(): tf.serialization.ConfigDict;
};
let ferL1L2Class: RegularizerClass | undefined;

/** fer's L1L2 class, made and registered with tfjs's serialization on first use (not at import). */
export function registerFerRegularizer(): RegularizerClass {
  if (ferL1L2Class) return ferL1L2Class;
  // tfjs-layers does not export the class itself; take it from an instance.
  const Base = tf.regularizers.l2({ l2: 0.01 }).constructor as unknown as RegularizerClass;
  class FerL1L2 extends Base {
    static className = 'L1L2';

    override apply(x: tf.Tensor): tf.Scalar {
      const self = this as unknown as L1L2Fields;
      if (!self.hasL1 && self.hasL2) {
        const fused = l2Penalty(x, self.l2);
        if (fused) return fused;
      }
      return super.apply(x);
    }
  }
  tf.serialization.registerClass(FerL1L2 as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  ferL1L2Class = FerL1L2;
  return ferL1L2Class;
}

/** An L2 weight penalty l2 · Σ w² (tf.regularizers.l2 with fer's fused kernel where there is one). */
export function l2Regularizer(l2: number): Regularizer {
  return new (registerFerRegularizer())({ l1: 0, l2 }) as unknown as Regularizer;
}
