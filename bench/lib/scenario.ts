/** One benchmark: `run` measures and returns plain JSON; `render` turns it into its BENCHMARKS.md section. */
export interface Scenario<R = unknown> {
  name: string;
  title: string;
  /** Rough wall time on the 2-core reference box, for the progress line. */
  expectedSeconds: number;
  run(log: (line: string) => void): Promise<R>;
  render(result: R): string;
  /** Rows of the summary table at the top of BENCHMARKS.md. */
  summary(result: R): SummaryRow[];
}

export interface SummaryRow {
  what: string;
  measured: string;
  target: string;
  met: boolean | undefined;
}

export const command = (name: string): string => `npm run bench -- ${name}`;

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function verdict(ok: boolean): string {
  return ok ? '**met**' : '**missed**';
}
