/**
 * Times as people read them in `orchestrate status` and TASKS.md: the local time of the machine that prints them,
 * with its UTC offset, `2026-11-30 15:04:05 +01:00`. Local, because the live view and the log lines are local too
 * and a person compares them with the clock on their screen; with the offset, because TASKS.md is committed and
 * read by people in other time zones (and on GitHub), who can then tell exactly when it was. Machine output
 * (`--json`, the state file, NDJSON events) keeps ISO UTC.
 */
export function localDateTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  // getTimezoneOffset is minutes *behind* UTC: -60 in Central Europe in winter.
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  return `${date} ${time} ${sign}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
}

/**
 * An ISO time from a file (the run state, the lock) for a person: `localDateTime` when it parses, otherwise the text
 * as it is (a hand-edited or foreign value is shown, not hidden).
 */
export function localDateTimeOf(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : localDateTime(ms);
}
