import type { core } from 'zod';
import { didYouMean } from './did-you-mean.js';

/**
 * Turns a zod issue into a sentence a user can act on: `expected a whole number >= 1, got "four"`.
 * Parse with `{ reportInput: true }` so the offending value can be quoted.
 */
export function describeZodIssue(issue: core.$ZodIssue, knownKeys: readonly string[] = []): string {
  const got = 'input' in issue ? `, got ${show(issue.input)}` : '';
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${article(issue.expected)}${got}`;
    case 'too_small': {
      const op = issue.inclusive === false ? '>' : '>=';
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint')
        return `expected a number ${op} ${String(issue.minimum)}${got}`;
      if (issue.origin === 'string') return `expected a non-empty string${got}`;
      return `expected at least ${String(issue.minimum)} item(s)${got}`;
    }
    case 'too_big': {
      const op = issue.inclusive === false ? '<' : '<=';
      return `expected a number ${op} ${String(issue.maximum)}${got}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    case 'unrecognized_keys':
      return issue.keys
        .map((k) => `unknown key "${k}"${knownKeys.length ? ` (${didYouMean(k, knownKeys)})` : ''}`)
        .join('; ');
    case 'invalid_format':
      return `expected a valid ${issue.format}${got}`;
    case 'invalid_union':
    case 'custom':
    default:
      return `${issue.message}${issue.code === 'custom' ? '' : got}`;
  }
}

function article(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping (object)';
    default:
      return expected;
  }
}

/** A short, JSON-ish rendering of a user's value for messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
