import { formatDiagnostic, sortDiagnostics, type Diagnostic } from '../diagnostics.js';
import { terminalSafe } from './terminal-safe.js';

/** The one printer for user-facing problems: all of them, sorted, then a count. */
export function printDiagnostics(diagnostics: readonly Diagnostic[], write: (text: string) => void): void {
  if (diagnostics.length === 0) return;
  for (const d of sortDiagnostics(diagnostics)) write(`${terminalSafe(formatDiagnostic(d))}\n`);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  write(`${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A single fatal problem outside any file: same look as a diagnostic. Control characters in it (a value from a
 * tampered state or lock file) are shown escaped, never sent to the terminal (terminal-safe.ts).
 */
export function fail(message: string, hint?: string): string {
  return terminalSafe(`error: ${message}${hint ? `\n  hint: ${hint}` : ''}\n`);
}
