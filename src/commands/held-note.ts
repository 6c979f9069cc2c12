/**
 * The engine's "backend …" line, held until the command first says something else (a note, a progress line, a
 * result), so that a command refused for its arguments or inputs still answers in one line.
 */
let held: string | undefined;

export function holdNote(message: string): void {
  held = message;
}

/** Writes the held line, if any, before whatever comes next. */
export function releaseNote(): void {
  if (held === undefined) return;
  const message = held;
  held = undefined;
  process.stderr.write(`fer: ${message}\n`);
}

/** An error ends the command before it said anything: the held line would only be noise above it. */
export function dropNote(): void {
  held = undefined;
}
