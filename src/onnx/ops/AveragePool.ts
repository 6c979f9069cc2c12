import { poolEmitter } from './pool.js';

/** tfjs averages over the valid cells only: count_include_pad = 0. */
export const AveragePool = poolEmitter('AveragePool', { count_include_pad: { int: 0 } });
