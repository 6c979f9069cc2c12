/**
 * Short tensor names for the smallest files (int4 exports): every tensor the graph names internally (initializers,
 * intermediate outputs) renamed to a one- or two-letter id in order of first use, node names dropped (optional in
 * ONNX). The graph's inputs and outputs keep their names, so callers see no difference. On the shipped model's
 * int4 file the names were 14 KB of 53 KB (BENCHMARKS.md "int4 at a sixth of fp32").
 */
import type { OnnxTypes } from './proto.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The k-th short name: a…Z, then ba…ZZ, … (bijective in k; never empty). */
export function shortName(k: number): string {
  let s = '';
  do {
    s = LETTERS[k % LETTERS.length] + s;
    k = Math.floor(k / LETTERS.length);
  } while (k > 0);
  return s;
}

/**
 * Renames, in place, every tensor of `nodes` and `initializers` not in `keep` (the graph's inputs and outputs) and
 * clears node names. Returns the map old → new name.
 */
export function compactNames(nodes: OnnxTypes.NodeProto[], initializers: OnnxTypes.TensorProto[], keep: Set<string>): Map<string, string> {
  const names = new Map<string, string>();
  // Short names that could clash with a kept one are skipped.
  let next = 0;
  const rename = (n: string) => {
    if (n === '' || keep.has(n)) return n;
    let s = names.get(n);
    if (s === undefined) {
      do s = shortName(next++);
      while (keep.has(s));
      names.set(n, s);
    }
    return s;
  };
  for (const t of initializers) t.name = rename(t.name!);
  for (const node of nodes) {
    node.name = '';
    node.input = node.input!.map(rename);
    node.output = node.output!.map(rename);
  }
  return names;
}
