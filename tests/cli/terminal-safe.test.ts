import { describe, expect, it } from 'vitest';
import { safeJson, terminalSafe } from '../../src/cli/terminal-safe.js';
import { fail } from '../../src/cli/print.js';

describe('terminalSafe', () => {
  it('escapes C0, DEL, C1, lone CR and bidi controls; keeps newlines and tabs, drops the CR of CRLF', () => {
    expect(terminalSafe('a\u001b[2Jb\u0007c\u007fd\u009be\u202ef\u2028g')).toBe('a\\x1b[2Jb\\x07c\\x7fd\\x9be\\u202ef\\u2028g');
    expect(terminalSafe('line 1\r\nline 2\ttab\rover')).toBe('line 1\nline 2\ttab\\rover');
    expect(terminalSafe('a\nb\tc', { multiline: false })).toBe('a\\nb\\tc');
    expect(terminalSafe('plain — ✔ text')).toBe('plain — ✔ text');
  });

  it('is idempotent: text already escaped stays as it is', () => {
    const once = terminalSafe('x\u001b]0;t\u0007');
    expect(terminalSafe(once)).toBe(once);
  });

  it('the one printer uses it for messages and hints', () => {
    expect(fail('held by host\u001b[8m', 'rm \u001b]52;c;x\u0007')).toBe('error: held by host\\x1b[8m\n  hint: rm \\x1b]52;c;x\\x07\n');
  });
});

describe('safeJson', () => {
  it('writes the controls JSON.stringify leaves raw as \\u escapes, which parse back to the same value', () => {
    const value = { a: 'x\u009by\u202ez\u2028', b: ['\u001b'] };
    const text = safeJson(value);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u202e]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
