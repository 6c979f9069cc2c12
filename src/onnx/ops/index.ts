/** The ONNX op emitters, one file per op (a barrel: nothing iterates it, and importing a file registers nothing). */
import { Add } from './Add.js';
import { AveragePool } from './AveragePool.js';
import { BatchNormalization } from './BatchNormalization.js';
import { Conv } from './Conv.js';
import { Flatten } from './Flatten.js';
import { Gemm } from './Gemm.js';
import { GlobalAveragePool } from './GlobalAveragePool.js';
import { MaxPool } from './MaxPool.js';
import { QuantizeLinear } from './QuantizeLinear.js';
import { Relu } from './Relu.js';
import { Reshape } from './Reshape.js';
import { Softmax } from './Softmax.js';
import { Transpose } from './Transpose.js';

export {
  Add,
  AveragePool,
  BatchNormalization,
  Conv,
  Flatten,
  Gemm,
  GlobalAveragePool,
  MaxPool,
  QuantizeLinear,
  Relu,
  Reshape,
  Softmax,
  Transpose,
};
