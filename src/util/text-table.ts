/** An aligned plain-text table, as the CLI prints results: the first column left-aligned, the others right. */
export function textTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** A message with its control characters escaped (`\n` for a newline), so that it stays on one line. */
export const oneLine = (m: string) =>
  [...m]
    .map((c) => {
      const code = c.charCodeAt(0);
      if (code >= 0x20 && code !== 0x7f) return c;
      return c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${code.toString(16).padStart(4, '0')}`;
    })
    .join('');
