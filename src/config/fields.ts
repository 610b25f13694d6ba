import { z } from 'zod';
import { MAX_TIMEOUT_SECONDS, MAX_TIMEOUT_TEXT, MIN_DURATION_SECONDS, parseDurationSecondsExact } from '../util/duration.js';
import { refNameProblem } from '../util/ref-name.js';

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

const DURATION_PHRASE = 'expected a duration of at least 1 second: a number of seconds or a string like "90s", "45m", "1.5h", "1h 30m"';
const MAX_DURATION_PHRASE = `expected a duration of at most ${MAX_TIMEOUT_TEXT}`;

/**
 * A number of seconds or a duration string of at least `MIN_DURATION_SECONDS`; the output is always whole seconds
 * (rounded), and no more than a timer
 * can hold (a longer one would fire at once). The upper limit is checked in the transform so that the published
 * JSON Schema stays as it is.
 */
export function duration() {
  const e = expecting(DURATION_PHRASE);
  expecting(MAX_DURATION_PHRASE);
  const text = z.string(e).meta({ examples: ['90s', '45m', '1.5h', '1h 30m'] });
  return z.union([z.number(e).min(MIN_DURATION_SECONDS, e), text], e).transform((value, ctx) => {
    const exact = parseDurationSecondsExact(value);
    const seconds = exact === null ? null : Math.round(exact);
    if (seconds !== null && seconds > MAX_TIMEOUT_SECONDS) {
      ctx.issues.push({ code: 'custom', message: MAX_DURATION_PHRASE, input: value });
      return z.NEVER;
    }
    if (exact !== null && seconds !== null && exact >= MIN_DURATION_SECONDS) return seconds;
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
 * A branch-name prefix such as `milestone/`. The branches made from it (`<prefix>1A`, `<prefix>integration`)
 * must be names git accepts (`git check-ref-format --branch` rules, checked without git: see util/ref-name.ts),
 * so a prefix git cannot take is refused here, with its line and column, instead of failing inside git later.
 */
export function branchPrefix() {
  const e = expecting('expected a non-empty branch name prefix');
  return z
    .string(e)
    .min(1, e)
    .superRefine((prefix, ctx) => {
      const problem = refNameProblem(`${prefix}1A`) ?? refNameProblem(`${prefix}integration`);
      if (problem) {
        ctx.addIssue({
          code: 'custom',
          message: `git cannot take branches named with this prefix: "${prefix}1A" ${problem}; use letters, digits, "-", "_", "." and "/" (e.g. "milestone/")`,
          input: prefix,
        });
      }
    });
}

/**
 * A value handed to the agent CLI as an option's value (a model, a tool name). One starting with "-" is refused: on
 * a command line it reads as an option of its own, and no model or tool is named that way.
 */
export function cliValue(what: string) {
  const e = expecting(`expected ${what}: a non-empty string not starting with "-"`);
  return z.string(e).min(1, e).refine((text) => !text.startsWith('-'), e);
}

export function nullableCliValue(what: string) {
  const e = expecting(`expected ${what} (a non-empty string not starting with "-") or null`);
  return z.string(e).min(1, e).refine((text) => !text.startsWith('-'), e).nullable();
}

export function cliValueList(what: string) {
  return z.array(cliValue(what), expecting('expected a list of strings'));
}

/**
 * A file of the repository named relative to its root (`.env`, `config/local.json`). Absolute paths and ".."
 * are refused: `worktrees.copy_files` copies these into every task worktree, and a path out of the repository
 * would copy (and possibly commit) a file the repository does not own.
 */
export function repoRelativePath() {
  const e = expecting('expected a path relative to the repository root, without ".." (e.g. ".env")');
  return z
    .string(e)
    .min(1, e)
    .refine((p) => !/^(?:[\\/]|[A-Za-z]:)/.test(p) && !p.split(/[\\/]/).includes('..') && p.split(/[\\/]/).some((s) => s !== '' && s !== '.'), e);
}

export function repoRelativePathList() {
  return z.array(repoRelativePath(), expecting('expected a list of strings'));
}
