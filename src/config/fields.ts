import { z } from 'zod';
import { MAX_TIMEOUT_SECONDS, MAX_TIMEOUT_TEXT, parseDurationSeconds } from '../util/duration.js';

/**
 * Building blocks for the config schema. Each one carries a single "expected ..." phrase for all of its
 * failure modes, so `max_parallel_tasks: "four"`, `0` and `2.5` all read `expected a whole number >= 1`
 * instead of three different zod messages, one of which forgets the bound.
 */

const phrases = new Set<string>();

/** The schema-level error for a field; remembered so the issue printer knows the message is already phrased. */
function expecting(phrase: string): { error: string } {
  phrases.add(phrase);
  return { error: phrase };
}

/** True when a zod issue message is one of our own phrases (it then only needs the offending value appended). */
export function isPhrasedMessage(message: string): boolean {
  return phrases.has(message);
}

export function wholeNumber(min: number) {
  const e = expecting(`expected a whole number >= ${min}`);
  return z.int(e).min(min, e);
}

export function positiveNumber() {
  const e = expecting('expected a number > 0');
  return z.number(e).positive(e);
}

export function nonNegativeNumber() {
  const e = expecting('expected a number >= 0');
  return z.number(e).min(0, e);
}

export function nonEmptyString() {
  const e = expecting('expected a non-empty string');
  return z.string(e).min(1, e);
}

export function nullableString() {
  const e = expecting('expected a non-empty string or null');
  return z.string(e).min(1, e).nullable();
}

export function nullableWholeNumber(min: number) {
  const e = expecting(`expected a whole number >= ${min} or null`);
  return z.int(e).min(min, e).nullable();
}

export function nullablePositiveNumber() {
  const e = expecting('expected a number > 0 or null');
  return z.number(e).positive(e).nullable();
}

export function stringList() {
  return z.array(nonEmptyString(), expecting('expected a list of strings'));
}

export function stringMap() {
  return z.record(z.string(), z.string(expecting('expected a string')), expecting('expected a mapping of names to strings'));
}

/**
 * Log levels. Upper case is accepted because the original tool's README writes `"INFO"`; the output is
 * always lower case. Listing both spellings (rather than lower-casing any string) keeps editor completion.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function logLevel() {
  const spellings = [...LOG_LEVELS, ...LOG_LEVELS.map((l) => l.toUpperCase())];
  const phrase = `expected "debug", "info", "warn" or "error" (upper case allowed)`;
  return z.enum(spellings, expecting(phrase)).transform((l) => l.toLowerCase() as LogLevel);
}

const DURATION_PHRASE = 'expected a duration > 0: a number of seconds or a string like "90s", "45m", "1.5h", "1h 30m"';
const MAX_DURATION_PHRASE = `expected a duration of at most ${MAX_TIMEOUT_TEXT}`;

/**
 * A number of seconds or a duration string; the output is always whole seconds > 0, and no more than a timer
 * can hold (a longer one would fire at once). The upper limit is checked in the transform so that the published
 * JSON Schema stays as it is.
 */
export function duration() {
  const e = expecting(DURATION_PHRASE);
  expecting(MAX_DURATION_PHRASE);
  const text = z.string(e).meta({ examples: ['90s', '45m', '1.5h', '1h 30m'] });
  return z.union([z.number(e).positive(e), text], e).transform((value, ctx) => {
    const seconds = parseDurationSeconds(value);
    if (seconds !== null && seconds > MAX_TIMEOUT_SECONDS) {
      ctx.issues.push({ code: 'custom', message: MAX_DURATION_PHRASE, input: value });
      return z.NEVER;
    }
    if (seconds !== null && seconds > 0) return seconds;
    ctx.issues.push({ code: 'custom', message: DURATION_PHRASE, input: value });
    return z.NEVER;
  });
}

/**
 * The agent command. A string names one executable and is split on whitespace so `"npx claude"` works;
 * a path containing spaces needs the list form. The output is always a list (or null).
 */
export function commandLine() {
  const e = expecting('expected a command string, a non-empty list of strings, or null');
  const asString = z.string(e).regex(/\S/, e).transform((s) => s.trim().split(/\s+/));
  const asList = z.array(z.string(e).min(1, e), e).min(1, e);
  return z.union([asString, asList], e).nullable();
}

/**
 * A branch-name prefix such as `milestone/`. Only the characters git always refuses in a ref are
 * rejected here; git itself has the final word when the branch is created.
 */
export function branchPrefix() {
  const e = expecting('expected a branch name prefix without spaces, "..", or any of ~^:?*[\\');
  return z
    .string(e)
    .min(1, e)
    .refine((s) => !/[\s~^:?*[\\]|\.\./.test(s), e);
}
