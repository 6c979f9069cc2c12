/**
 * Dependencies point one way: no import cycle among src/ files, type-only imports counted (as a reader
 * follows them). A cycle found is printed file by file.
 */
import { it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports and re-exports of a module (static, dynamic and type-only), as resolved .ts paths. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
}

export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') return stack.slice(stack.indexOf(m));
      if (!state.has(m) && graph.has(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of graph.keys())
    if (!state.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  return null;
}

it('finds a cycle where there is one (the checker itself)', () => {
  expect(
    findCycle(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
        ['d', ['a']],
      ]),
    ),
  ).toEqual(['a', 'b', 'c']);
  expect(
    findCycle(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', []],
      ]),
    ),
  ).toBeNull();
});

it('src/ has no import cycle, type-only imports included', () => {
  const graph = new Map(files(SRC).map((f) => [f, imports(f)]));
  expect(graph.size).toBeGreaterThan(80);
  const cycle = findCycle(graph);
  expect(cycle?.map((f) => path.relative(SRC, f)) ?? null).toBeNull();
});

it('the installed tfjs is the version whose internals src/engine/tfjs-internals.ts was checked against', async () => {
  const { TFJS_CHECKED_VERSION } = await import('../src/engine/tfjs-internals.js');
  const installed = JSON.parse(readFileSync(path.join('node_modules', '@tensorflow', 'tfjs', 'package.json'), 'utf8')).version;
  expect(installed).toBe(TFJS_CHECKED_VERSION);
});
