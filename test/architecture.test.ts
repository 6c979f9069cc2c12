/**
 * Dependencies point one way: no import cycle among src/ files, type-only imports counted (as a reader
 * follows them), and none among the stages (folders) they make up. A cycle found is printed file by file.
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

it('the stages (src/ folders) have no cycle either: each depends only on stages below it', () => {
  // The entry points above every stage (index.ts, cli-support.ts, commands/, web/) are left out; root modules (errors.ts,
  // paths.ts) are one "base" stage below all.
  const stage = (f: string) => {
    const parts = path.relative(SRC, f).split(path.sep);
    return parts.length > 1 ? parts[0] : 'base';
  };
  const top = (f: string) => ['index.ts', 'cli-support.ts', 'commands', 'web'].includes(path.relative(SRC, f).split(path.sep)[0]);
  const graph = new Map<string, Set<string>>();
  const why = new Map<string, string>();
  for (const f of files(SRC).filter((x) => !top(x))) {
    for (const t of imports(f)) {
      if (stage(t) === stage(f)) continue;
      graph.set(stage(f), (graph.get(stage(f)) ?? new Set()).add(stage(t)));
      why.set(`${stage(f)}>${stage(t)}`, path.relative(SRC, f));
    }
  }
  expect(graph.size).toBeGreaterThan(10);
  const cycle = findCycle(new Map([...graph].map(([k, v]) => [k, [...v]])));
  // A cycle is printed with the file behind each step.
  expect(
    cycle?.map((s, i) => `${s} → ${cycle[(i + 1) % cycle.length]} (${why.get(`${s}>${cycle[(i + 1) % cycle.length]}`)})`) ?? null,
  ).toBeNull();
});

/**
 * The rule of issue 35: a command parses its flags, calls a stage function the package exports, and prints.
 * So a file in src/commands/ imports only modules src/index.ts re-exports (or index.ts itself), the modules of the
 * CLI's own checks and helpers (src/cli-support.ts re-exports them: internal, not the public API), the command
 * helpers, and errors.ts, paths.ts and the output checks (io/files.ts, io/output.ts); never another command,
 * except main.ts, which assembles the program from them. Returns each offending import as "from → to".
 */
export function commandImportViolations(graph: Map<string, string[]>): string[] {
  const rel = (f: string) => path.relative(SRC, f);
  const index = path.join(SRC, 'index.ts');
  const support = path.join(SRC, 'cli-support.ts');
  const allowed = new Set([
    index,
    support,
    ...(graph.get(index) ?? []),
    ...(graph.get(support) ?? []),
    ...['common', 'printers', 'progress', 'handle-error', 'held-note'].map((f) => path.join(SRC, 'commands', `${f}.ts`)),
    ...['errors.ts', 'paths.ts', 'io/files.ts', 'io/output.ts'].map((f) => path.join(SRC, f)),
  ]);
  const isCommand = (f: string) => rel(f).split(path.sep)[0] === 'commands';
  const main = path.join(SRC, 'commands', 'main.ts');
  return [...graph]
    .filter(([f]) => isCommand(f))
    .flatMap(([f, targets]) => targets.filter((t) => !allowed.has(t) && !(f === main && isCommand(t))).map((t) => `${rel(f)} → ${rel(t)}`));
}

it('finds a command that imports past the library or another command (the checker itself)', () => {
  const p = (f: string) => path.join(SRC, f);
  const graph = new Map([
    [p('index.ts'), [p('train/fit.ts')]],
    [p('commands/train.ts'), [p('train/fit.ts'), p('commands/common.ts'), p('errors.ts'), p('io/output.ts')]],
    [p('commands/eval.ts'), [p('eval/probs.ts'), p('commands/train.ts')]],
    [p('commands/main.ts'), [p('commands/train.ts'), p('commands/eval.ts')]],
  ]);
  expect(commandImportViolations(graph)).toEqual([
    `${path.join('commands', 'eval.ts')} → ${path.join('eval', 'probs.ts')}`,
    `${path.join('commands', 'eval.ts')} → ${path.join('commands', 'train.ts')}`,
  ]);
});

it('src/commands/ imports only what src/index.ts exports, the command helpers, and errors/paths/output checks', () => {
  const graph = new Map(files(SRC).map((f) => [f, imports(f)]));
  expect(commandImportViolations(graph)).toEqual([]);
});

it('the installed tfjs is the version whose internals src/engine/tfjs-internals.ts was checked against', async () => {
  const { TFJS_CHECKED_VERSION } = await import('../src/engine/tfjs-internals.js');
  const installed = JSON.parse(readFileSync(path.join('node_modules', '@tensorflow', 'tfjs', 'package.json'), 'utf8')).version;
  expect(installed).toBe(TFJS_CHECKED_VERSION);
});
