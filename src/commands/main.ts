/** The `fer` program: one commander Command per verb, errors turned into exit codes in one place. */
import { Command } from 'commander';
import { packageVersion } from '../paths.js';
import { clearProtectedInputs } from '../io/output.js';
import { configureSharp } from '../io/image.js';
import { reportError } from './handle-error.js';
import { UsageError } from '../errors.js';
import { trainCommand } from './train.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { averageCommand } from './average.js';
import { pruneCommand } from './prune.js';
import { quantizeCommand } from './quantize.js';
import { compressCommand } from './compress.js';
import { benchCommand } from './bench.js';
import { predictCommand } from './predict.js';
import { reportCommand } from './report.js';
import { serveCommand } from './serve.js';

export function buildProgram(): Command {
  const program = new Command('fer')
    .description('Facial emotion recognition toolkit: train, prune, quantize, export, benchmark and run a lightweight mini-Xception')
    .version(packageVersion())
    .option('--debug', 'print stack traces on errors');
  for (const cmd of [
    trainCommand(),
    evalCommand(),
    averageCommand(),
    pruneCommand(),
    quantizeCommand(),
    compressCommand(),
    exportCommand(),
    benchCommand(),
    predictCommand(),
    reportCommand(),
    serveCommand(),
  ]) {
    program.addCommand(cmd);
  }
  // `fer help export onnx` reaches a subcommand's help (commander's own help command stopped at `export`), and
  // `fer help nosuch` says it is unknown (commander printed the program's help, exit 2, without a word why).
  program.helpCommand(false);
  program
    .command('help [command...]')
    .description('help for a command (fer help export onnx)')
    .action((names: string[]) => {
      let cmd: Command = program;
      for (const n of names) {
        const sub = cmd.commands.find((c) => c.name() === n || c.aliases().includes(n));
        if (!sub) throw new UsageError(`help: unknown command '${names.join(' ')}'`, { hint: 'fer --help lists the commands' });
        cmd = sub;
      }
      cmd.outputHelp();
    });
  return throwInsteadOfExit(program);
}

/**
 * A command and every command under it, at any depth (`export onnx`), throw a CommanderError instead of
 * calling process.exit (--help, --version, a bad flag), so that runCli returns the exit code. addCommand
 * does not pass these settings down, so each command gets them. Commander's own error line is not
 * printed: reportError prints it once, as "fer: …" (exit 2).
 */
function throwInsteadOfExit(cmd: Command): Command {
  cmd.exitOverride();
  cmd.configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => undefined });
  for (const sub of cmd.commands) throwInsteadOfExit(sub);
  return cmd;
}

/** Runs the CLI and returns the exit code (tests call this; bin/fer exits with it). */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    process.exitCode = undefined;
    clearProtectedInputs(); // the inputs of this command only (one process may run several: tests, library use)
    // The CLI owns its process, so it sets sharp's process-wide state: 2 libvips threads (decoding runs beside
    // onnxruntime's and tfjs's threads), no operation cache (every image is decoded once). The library never does.
    configureSharp({ concurrency: 2, cache: false });
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportError(e, argv.includes('--debug'));
  }
}

export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`fer predict photos/ | head -1`) closes the pipe: the rest of the output has nowhere
  // to go, so the program ends quietly, as Unix tools ended by SIGPIPE do (Node ignores that signal and reports EPIPE
  // as an error event, which would print a stack trace).
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  // Ctrl-C where no command stops gracefully (eval, predict, bench, average, export): a line saying so, the progress
  // bar's line cleared first, and 130; a command that saves work on Ctrl-C (stopOnSignal, serve) has its own handler.
  process.on('SIGINT', () => {
    if (process.listenerCount('SIGINT') > 1) return;
    process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}fer: interrupted\n`);
    process.exit(130);
  });
  const code = await runCli(argv);
  process.exit(code);
}
