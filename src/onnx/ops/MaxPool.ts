import { poolEmitter } from './pool.js';

export const MaxPool = poolEmitter('MaxPool');
