/**
 * User-facing problems are values, not exceptions. Every module that can find a problem in the user's
 * input returns `Diagnostic`s; the CLI prints them all with one printer and picks the exit code.
 */
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable code, e.g. `unknown-dependency`. */
  code: string;
  /** Path as the user should see it: relative to the repository root, forward slashes. */
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  col?: number;
  /** What is wrong, in one sentence. */
  message: string;
  /** What to do about it. */
  hint?: string;
}

export function error(code: string, message: string, at: Partial<Pick<Diagnostic, 'file' | 'line' | 'col' | 'hint'>> = {}): Diagnostic {
  return { severity: 'error', code, message, ...at };
}

export function warning(code: string, message: string, at: Partial<Pick<Diagnostic, 'file' | 'line' | 'col' | 'hint'>> = {}): Diagnostic {
  return { severity: 'warning', code, message, ...at };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** `file:line:col` with whatever parts are known. */
export function formatLocation(d: Pick<Diagnostic, 'file' | 'line' | 'col'>): string {
  if (!d.file) return '';
  if (d.line === undefined) return d.file;
  return `${d.file}:${d.line}:${d.col ?? 1}`;
}

/** By file, then line and column (a file's unlocated problems first), errors before warnings at the same place. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0) ||
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = formatLocation(d);
  const head = `${where ? `${where}: ` : ''}${d.severity}: ${d.message}`;
  return d.hint ? `${head}\n  hint: ${d.hint}` : head;
}
