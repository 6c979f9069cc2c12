import { releaseNote } from './held-note.js';

/** A one-line progress bar with rate and ETA on a TTY (stderr); occasional plain lines otherwise. */
export class Progress {
  private last = 0;
  /** When the last plain line went out (logs and pipes); none yet: the first update says the work began, with its ETA. */
  private lastPlain: number | null = null;
  private started = Date.now();
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  /** Seconds since the bar was made or restarted. */
  seconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  /** Restarts the clock `tick` estimates from (e.g. once the data has loaded and the measured work begins). */
  restart(): void {
    this.started = Date.now();
  }

  /** `update`, with the time left estimated from the rate since the bar started: `done` of `total`. */
  tick(done: number, total: number, label: string, detail = ''): void {
    this.update(done, total, label, detail, (this.seconds() / done) * (total - done));
  }

  /** `etaSeconds`: time left for the whole job (not just this bar). */
  update(done: number, total: number, label: string, detail = '', etaSeconds?: number): void {
    releaseNote();
    const now = Date.now();
    if (now - this.last < 200 && done < total) return;
    this.last = now;
    const frac = total > 0 ? done / total : 0;
    const eta = etaSeconds ?? NaN;
    if (!this.stream.isTTY) {
      // Logs and pipes: a plain line every 30 s, so a long run in the background still shows progress.
      if (this.lastPlain === null || now - this.lastPlain >= 30_000) {
        this.lastPlain = now;
        const tail = `${detail ? ` ${detail}` : ''}${Number.isFinite(eta) ? `, ETA ${formatDuration(eta)}` : ''}`;
        this.stream.write(`fer: ${label} ${done}/${total}${tail}\n`); // a note's form, as the lines around it
      }
      return;
    }
    const width = 24;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
    const line = `${label} ${bar} ${done}/${total} ${detail}${Number.isFinite(eta) ? ` ETA ${formatDuration(eta)}` : ''}`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
  }

  done(line?: string): void {
    releaseNote();
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
    if (line) this.stream.write(`${line}\n`);
  }
}

/** Seconds as `42s`, `1m05s` or `2h03m`, rounded to the unit shown first (59.6 s is `1m00s`, never `60s` or `1m60s`). */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const secs = Math.round(s);
  if (secs < 60) return `${secs}s`;
  if (secs < 3600) return `${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, '0')}s`;
  const mins = Math.round(s / 60);
  return `${Math.floor(mins / 60)}h${String(mins % 60).padStart(2, '0')}m`;
}
