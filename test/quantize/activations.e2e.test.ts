/**
 * Where int8 export quantizes activations, and the tfjs simulation of it: hand-computed cases, the
 * calibration keys the writer looks up, and the simulation against plain inference when nothing is quantized.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { useBackend } from '../../src/engine/backend.js';
import { activationQuantPoints, depthwiseKey, fakeQuantizeActivation, simulateInt8 } from '../../src/quantize/activations.js';
import { calibrate } from '../../src/quantize/calibrate.js';
import { fixtureModel } from '../fixture-model.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('activation fake quantization (ONNX QuantizeLinear → DequantizeLinear, int8, zero point 0)', () => {
  it('rounds half to even and saturates to [-128, 127], by hand', () => {
    const x = tf.tensor1d([0.25, 0.75, -0.25, 1.0, -64.5, 100, -0.24]);
    // x / 0.5 = 0.5, 1.5, -0.5, 2, -129, 200, -0.48 → 0, 2, -0, 2, -128, 127, -0
    expect(Array.from(fakeQuantizeActivation(x, 0.5).dataSync(), (v) => v + 0)).toEqual([0, 1, 0, 1, -64, 63.5, 0]);
  });
});

describe('int8 quantization points of the mini-Xception', () => {
  const images = new Uint8Array(16 * 48 * 48).map((_, i) => (i * 37) % 256);
  it('calibration measures every tensor the writer quantizes, input and depthwise halves included', () => {
    const model = fixtureModel(3);
    const c = calibrate(model, images, 16, 8);
    expect(c.maxAbs[model.layers[0].name]).toBeCloseTo(1, 2); // x/127.5 − 1 spans [−1, 1]
    const separable = model.layers.filter((l) => l.getClassName() === 'SeparableConv2D');
    expect(separable.length).toBe(8);
    for (const l of separable) expect(c.maxAbs[depthwiseKey(l.name)]).toBeGreaterThan(0);
    const points = activationQuantPoints(model, c.maxAbs);
    // Not quantized: convs whose BN folds into them, the logits conv before global pooling, the output.
    for (const l of model.layers) {
      const cls = l.getClassName();
      if (cls === 'SeparableConv2D' || (cls === 'Conv2D' && l !== model.layers[model.layers.length - 3]))
        expect(points.has(l.name)).toBe(false);
      const relu = cls === 'Activation' && l.getConfig().activation === 'relu';
      if (cls === 'BatchNormalization' || relu || cls === 'Add' || cls === 'MaxPooling2D')
        expect(points.get(l.name)).toBeCloseTo(c.maxAbs[l.name] / 127, 9);
    }
    expect(points.has(model.layers[model.layers.length - 1].name)).toBe(false);
    expect(points.has(model.layers[model.layers.length - 2].name)).toBe(false);
  });

  it('with no points the simulation is plain inference; with points it moves the output by quantization noise only', () => {
    const model = fixtureModel(3);
    const x = tf.tensor4d(
      Float32Array.from(images, (v) => v / 127.5 - 1),
      [16, 48, 48, 1],
    );
    const plain = (model.predict(x) as tf.Tensor).dataSync();
    const none = simulateInt8(model, new Map()).predict(x).dataSync();
    for (let i = 0; i < plain.length; i++) expect(none[i]).toBeCloseTo(plain[i], 6);
    const q = simulateInt8(model, activationQuantPoints(model, calibrate(model, images, 16, 8).maxAbs))
      .predict(x)
      .dataSync();
    let diff = 0;
    for (let i = 0; i < plain.length; i++) diff = Math.max(diff, Math.abs(q[i] - plain[i]));
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(0.1);
  });
});
