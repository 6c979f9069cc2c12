/**
 * The opset fer writes and the IR version a model declaring it needs, derived as onnx.helper's
 * `find_min_ir_version_for` does from its `VERSION_TABLE` (onnx/helper.py): the first onnx release that
 * shipped an ai.onnx opset fixes the lowest IR version a model importing it may declare.
 */
import { UsageError } from '../errors.js';

/** The opset every graph fer writes declares (classifier and face nets alike). */
export const ONNX_OPSET = 13;

/**
 * ai.onnx opset → the lowest IR version that carries it, one entry per IR version: [first opset, IR].
 * From onnx.helper's VERSION_TABLE (release, IR, ai.onnx): 1.0 (3, 1), 1.4.1 (4, 9), 1.5.0 (5, 10),
 * 1.6.0 (6, 11), 1.7.0 (7, 12), 1.10.0 (8, 15), 1.14.0 (9, 19), 1.16.0 (10, 21), 1.18.0 (11, 23),
 * 1.19.0 (12, 24), 1.20.0 (13, 25); its last row is 1.23.0 (13, 28).
 */
const FIRST_OPSET_OF_IR: readonly (readonly [opset: number, ir: number])[] = [
  [1, 3],
  [9, 4],
  [10, 5],
  [11, 6],
  [12, 7],
  [15, 8],
  [19, 9],
  [21, 10],
  [23, 11],
  [24, 12],
  [25, 13],
];
const LATEST_OPSET = 28;

/** The IR version a model importing ai.onnx `opset` declares (as `make_model_gen_version`): 13 → 7. */
export function irVersionFor(opset: number): number {
  if (!Number.isInteger(opset) || opset < 1 || opset > LATEST_OPSET) {
    throw new UsageError(`onnx: unsupported opset ${opset} (expected an integer from 1 to ${LATEST_OPSET})`);
  }
  let ir = 3;
  for (const [first, v] of FIRST_OPSET_OF_IR) if (first <= opset) ir = v;
  return ir;
}
