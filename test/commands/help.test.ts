/**
 * `fer <command> --help` for every command the program registers (subcommands included), read from the program
 * itself so a new command is covered without touching this file: exit code 0, a usage line, every option.
 */
import { describe, it, expect } from 'vitest';
import type { Command } from 'commander';
import { cli } from './cli.js';
import { buildProgram } from '../../src/commands/main.js';

/** Every command under `program` as its argv path, depth first: ['train'], ['export'], ['export', 'onnx'], … */
function commandPaths(program: Command, prefix: string[] = []): { argv: string[]; command: Command }[] {
  return program.commands.flatMap((c) => {
    const argv = [...prefix, c.name()];
    return [{ argv, command: c }, ...commandPaths(c, argv)];
  });
}

const program = buildProgram();
const helpExitsZero = async (argv: string[]) => {
  const r = await cli(...argv, '--help');
  expect(r.code, r.stderr).toBe(0);
};
const commands = commandPaths(program);

describe('fer --help', () => {
  it('the program lists every command', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    expect(commands.length).toBeGreaterThanOrEqual(10);
    for (const c of program.commands) expect(top.stdout).toMatch(new RegExp(`^\\s+${c.name()}\\b`, 'm'));
  });

  it.each(commands.map((c) => [c.argv.join(' '), c] as const))(
    'fer %s --help prints its usage and every option',
    async (_, { argv, command }) => {
      const r = await cli(...argv, '--help');
      expect(r.stdout).toContain(`Usage: fer ${argv.join(' ')}`);
      for (const o of command.options.filter((x) => !x.hidden)) expect(r.stdout, o.flags).toContain(o.long ?? o.short!);
      for (const sub of command.commands) expect(r.stdout).toContain(sub.name());
      // Defaults come from each command's zod schema; an option never shows two.
      expect(r.stdout.replace(/\s+/g, ' ')).not.toMatch(/\(default[^)]*\) \(default/);
    },
  );

  const [top, nested] = [commands.filter((c) => c.argv.length === 1), commands.filter((c) => c.argv.length > 1)];
  it.each(top.map((c) => c.argv.join(' ')))('fer %s --help exits 0', (name) => helpExitsZero(name.split(' ')));
  // Nested commands too: runCli returns 0 rather than calling process.exit (buildProgram, src/commands/main.ts).
  it.each(nested.map((c) => c.argv.join(' ')))('fer %s --help exits 0', (name) => helpExitsZero(name.split(' ')));
});

describe('fer without a command, or with a misspelt one', () => {
  it('without its (sub)command: the help on stderr, exit 2, no stray line', async () => {
    for (const argv of [[], ['export']]) {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('Usage: fer');
      expect(r.stderr).not.toMatch(/outputHelp|^fer: /m);
    }
  });

  it("a misspelt command or option: one line with commander's suggestion", async () => {
    const r = await cli('train', '--data', 'x', '--epoch', '1');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("fer: unknown option '--epoch' (did you mean --epochs?) (see --help)");
    expect((await cli('trian')).stderr.trim()).toBe("fer: unknown command 'trian' (did you mean train?) (see --help)");
  });

  it('fer help reaches subcommands and names an unknown one; a flag that is not a number says so', async () => {
    const onnx = await cli('help', 'export', 'onnx');
    expect(onnx.code).toBe(0);
    expect(onnx.stdout).toMatch(/^Usage: fer export onnx \[options\]/);
    const unknown = await cli('help', 'nosuch');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe("fer: help: unknown command 'nosuch'");
    expect((await cli('train', '--data', 'x', '--epochs', 'abc')).stderr.split('\n')[0]).toBe('fer: invalid --epochs: not a number');
  });
});
