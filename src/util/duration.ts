/**
 * Reads the human duration phrases people write in milestone files ("2 hours", "1h 30m", "2-3 hours")
 * and in `timeout` settings ("45m").
 *
 * Grammar (case-insensitive, after light clean-up):
 * - a term is a number (`2`, `1.5`, `1,5`) with an optional unit;
 * - terms in a row are added: `1h 30m`, `1 hour and 30 minutes`, `1h30m`;
 * - a range `A-B`, `A–B`, `A to B` takes the upper bound; a bare number in a range borrows the next unit
 *   (`2-3 hours` is 3 hours);
 * - units: s/sec/second, m/min/minute, h/hr/hour, d/day, w/wk/week;
 * - in estimates a day is a WORKING day of 8 hours and a week is 5 working days (40 hours), because estimates
 *   count effort; in timeouts they are calendar days and weeks, because a timeout is wall-clock time;
 * - `an hour`, `a day`, `half an hour` are understood; leading filler such as `~`, `about`, `approx.`,
 *   a list marker, a `Label:` prefix, emphasis and a trailing `(comment)` are ignored;
 * - a number with no unit anywhere takes the caller's default unit (minutes for estimates, seconds for timeouts).
 * Anything else (`TBD`, `a while`, `3 story points`) is unreadable: null.
 */

type UnitTable = Record<string, number>;
const EFFORT: UnitTable = {};
const WALL_CLOCK: UnitTable = {};
defineUnit(1, 1, 's', 'sec', 'secs', 'second', 'seconds');
defineUnit(60, 60, 'm', 'min', 'mins', 'minute', 'minutes');
defineUnit(3600, 3600, 'h', 'hr', 'hrs', 'hour', 'hours');
defineUnit(8 * 3600, 24 * 3600, 'd', 'day', 'days');
defineUnit(5 * 8 * 3600, 7 * 24 * 3600, 'w', 'wk', 'wks', 'week', 'weeks');

function defineUnit(effortSeconds: number, wallSeconds: number, ...names: string[]): void {
  for (const name of names) {
    EFFORT[name] = effortSeconds;
    WALL_CLOCK[name] = wallSeconds;
  }
}

/**
 * The longest time limit a timer can hold: Node's setTimeout takes at most 2^31-1 ms and fires AT ONCE for
 * anything longer (with only a warning), so a `timeout: 30d` would end every agent immediately. About 24.8 days.
 */
export const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** `MAX_TIMEOUT_SECONDS` for messages. */
export const MAX_TIMEOUT_TEXT = `${MAX_TIMEOUT_SECONDS} seconds (about 24 days)`;

/** Estimated effort in minutes; a bare number means minutes. Null when unreadable. */
export function parseDurationMinutes(text: string): number | null {
  const seconds = parseDuration(text, 60, EFFORT);
  return seconds === null ? null : roundTo(seconds / 60, 3);
}

/**
 * For `timeout`: a number is seconds, and so is a bare numeric string ("90"); a string with units is a
 * duration ("45m", "1h 30m"). Whole seconds, or null when unreadable or negative.
 */
export function parseDurationSeconds(value: string | number): number | null {
  const seconds = parseDurationSecondsExact(value);
  return seconds === null ? null : Math.round(seconds);
}

/** `parseDurationSeconds` before rounding: "0.2s" is 0.2. Null when unreadable or negative. */
export function parseDurationSecondsExact(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  return parseDuration(value, 1, WALL_CLOCK);
}

/**
 * The shortest timeout a configuration or front matter takes, in seconds: timeouts are whole seconds, so a shorter
 * one ("0.2s", 0.5) is refused with this minimum in the message, not rounded to 0 (refused) or up to 1 (accepted).
 */
export const MIN_DURATION_SECONDS = 1;

interface Term {
  value: number;
  /** Seconds per unit, or null for a bare number. */
  unitSeconds: number | null;
}

function parseDuration(text: string, bareUnitSeconds: number, units: UnitTable): number | null {
  const cleaned = clean(text);
  if (cleaned === '') return null;
  const parts = cleaned.split(/\s*(?:-|–|—|\bto\b)\s*/);
  const parsed: Term[][] = [];
  for (const part of parts) {
    const terms = parseTerms(part, units);
    if (terms === null) return null;
    parsed.push(terms);
  }
  return upperBound(parsed, bareUnitSeconds);
}

/** Strips the decoration people put around a duration, and spells out `an hour`-style phrases. */
function clean(text: string): string {
  return text
    .toLowerCase()
    .replace(/[*_`]/g, '')
    .replace(/\([^)]*\)/g, ' ')
    .trim()
    .replace(/^(?:[-+]\s+|\d+[.)]\s+)/, '')
    .replace(/^[a-z ]*:\s*/, '')
    .replace(/^(?:~|≈|<=?|about|approx\.?|approximately|around|roughly|circa|ca\.|estimated|est\.?|up to|at most|max\.?|maximum)\s*/, '')
    .replace(/(\d)\s*\+/g, '$1')
    .replace(/\bhalf an? hour\b|\bhalf hour\b/g, '30 minutes')
    .replace(/\ban? (?=(?:hour|day|week|minute)\b)/g, '1 ')
    .replace(/[.!]+$/, '')
    .trim();
}

const TERM = /\s*(?:(?:,|and|\+)\s*)?(\d+(?:[.,]\d+)?)\s*([a-z]+)?/y;

/** `1h 30m` -> two terms; null if anything in the part is not a term. */
function parseTerms(part: string, units: UnitTable): Term[] | null {
  const terms: Term[] = [];
  TERM.lastIndex = 0;
  while (TERM.lastIndex < part.length) {
    const match = TERM.exec(part);
    if (!match) return null;
    const value = Number((match[1] ?? '').replace(',', '.'));
    const unit = match[2];
    const unitSeconds = unit === undefined ? null : units[unit];
    if (unitSeconds === undefined) return null;
    terms.push({ value, unitSeconds });
    if (part.slice(TERM.lastIndex).trim() === '') break;
  }
  return resolveTrailingBareNumber(terms);
}

/** The next smaller unit, so that "1h30" reads as 1 hour 30 minutes. */
const SMALLER_UNIT = new Map<number, number>([
  [3600, 60],
  [60, 1],
  [8 * 3600, 3600],
  [5 * 8 * 3600, 8 * 3600],
]);

/**
 * A bare number may stand alone ("90") or end a compound ("1h30"), where it takes the next smaller unit.
 * Anywhere else ("30 1h") it is ambiguous: null.
 */
function resolveTrailingBareNumber(terms: Term[]): Term[] | null {
  if (terms.length <= 1) return terms.length === 1 ? terms : null;
  const last = terms[terms.length - 1];
  const beforeLast = terms[terms.length - 2];
  if (terms.slice(0, -1).some((t) => t.unitSeconds === null) || !last || !beforeLast) return null;
  if (last.unitSeconds !== null) return terms;
  const smaller = SMALLER_UNIT.get(beforeLast.unitSeconds ?? 0);
  return smaller === undefined ? null : [...terms.slice(0, -1), { value: last.value, unitSeconds: smaller }];
}

/** Adds up each part of a range, lending units to bare numbers, and returns the largest. */
function upperBound(parts: Term[][], bareUnitSeconds: number): number {
  let borrowed = bareUnitSeconds;
  const totals: number[] = [];
  for (let i = parts.length - 1; i >= 0; i--) {
    const terms = parts[i] ?? [];
    const first = terms[0];
    if (first && first.unitSeconds !== null) borrowed = first.unitSeconds;
    totals.push(terms.reduce((sum, t) => sum + t.value * (t.unitSeconds ?? borrowed), 0));
  }
  return Math.max(...totals);
}

function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
