/**
 * A library entry point's options object, checked as a library user writes it: a misspelt name is an error (it
 * would silently be the default), and a bad value is a UsageError (exit 2) of one line that names the option by
 * its key, not zod's multi-line report. The commands parse their flags with the same schemas first (their own
 * messages name the flag) and hand the library only its keys (`libraryOptions`).
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';

type AnyObject = z.ZodObject<z.ZodRawShape>;
const strictOf = new WeakMap<AnyObject, AnyObject>();

/** `input` without `extra` (keys the function takes beside the schema: hooks, loaders, samples). */
function without(input: unknown, extra: readonly string[]): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input) || extra.length === 0) return input;
  return Object.fromEntries(Object.entries(input).filter(([k]) => !extra.includes(k)));
}

/** Edit distance with transpositions (optimal string alignment), case-insensitive, for "did you mean". */
function distance(a: string, b: string): number {
  const x = a.toLowerCase(),
    y = b.toLowerCase();
  const d = Array.from({ length: x.length + 1 }, (_row, i) =>
    Array.from({ length: y.length + 1 }, (_col, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++)
    for (let j = 1; j <= y.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[x.length][y.length];
}

/** The closest of `names` to `key`, when it is close enough to be a typo. */
export function closestName(key: string, names: readonly string[]): string | undefined {
  let best: string | undefined,
    bestD = Infinity;
  for (const n of names) {
    const d = distance(key, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/** zod's first issue as one line naming the option (and how many more there are). */
function optionError(e: z.ZodError, stage: string, names: readonly string[]): UsageError {
  const i = e.issues[0];
  const more = e.issues.length > 1 ? ` (and ${e.issues.length - 1} more)` : '';
  if (i.code === 'unrecognized_keys') {
    const key = i.keys[0];
    const near = closestName(key, names);
    return new UsageError(`${stage}: unknown option "${key}"${more}`, {
      hint: near ? `did you mean ${near}?` : `options: ${names.join(', ')}`,
      cause: e,
    });
  }
  const where = i.path.length ? `option ${i.path.join('.')}` : 'options';
  return new UsageError(`${stage}: ${where}: ${i.message.split('\n')[0]}${more}`, { cause: e });
}

/**
 * `input` parsed by `schema`, unknown keys refused: a UsageError naming the option (see the file comment).
 * `extra` are the keys the function takes beside the schema, left out of the check.
 */
export function parseOptions<S extends AnyObject>(schema: S, input: unknown, stage: string, extra: readonly string[] = []): z.output<S> {
  let strict = strictOf.get(schema);
  if (!strict) strictOf.set(schema, (strict = schema.strict() as AnyObject));
  const r = strict.safeParse(without(input ?? {}, extra));
  if (r.success) return r.data as z.output<S>;
  throw optionError(r.error, stage, [...Object.keys(schema.shape), ...extra]);
}

/** An option's key as its command-line flag: `classMap` → `--class-map`. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * The keys of `o` that `schema` knows: what a command hands a library function from its flags (`o` parsed by the
 * command's schema, which extends the library's, so every key the library needs is there).
 */
export function libraryOptions<S extends AnyObject>(schema: S, o: object): z.input<S> {
  const keys = new Set(Object.keys(schema.shape));
  return Object.fromEntries(Object.entries(o).filter(([k]) => keys.has(k))) as z.input<S>;
}
