import { describe, expect, it } from 'vitest';
import { formatKeyPath } from '../../src/config/issues.js';
import { parseJsonSource } from '../../src/config/json-source.js';
import { ConfigSyntaxError, locate, pathKey } from '../../src/config/source.js';

function syntaxError(text: string): string {
  try {
    parseJsonSource(text);
  } catch (e) {
    if (e instanceof ConfigSyntaxError) return e.message;
    throw e;
  }
  throw new Error('expected a syntax error');
}

describe('parseJsonSource', () => {
  it('decodes like JSON.parse and records where keys and items start', () => {
    const text = '{\n  "a\\u0062": [10,\n    {"c": null}],\n  "d": "x\\"y"\n}';
    const parsed = parseJsonSource(text);
    expect(parsed.value).toEqual(JSON.parse(text));
    expect(parsed.positions.get(pathKey(['ab']))).toEqual({ line: 2, col: 3 });
    expect(parsed.positions.get(pathKey(['ab', 1]))).toEqual({ line: 3, col: 5 });
    expect(parsed.positions.get(pathKey(['ab', 1, 'c']))).toEqual({ line: 3, col: 6 });
    expect(parsed.positions.get(pathKey(['d']))).toEqual({ line: 4, col: 3 });
  });

  it('falls back to the nearest ancestor for a path the file does not spell out', () => {
    const parsed = parseJsonSource('{\n  "agent": {}\n}');
    expect(locate(parsed, ['agent', 'timeout'])).toEqual({ line: 2, col: 3 });
  });

  it.each([
    ['{"a": "\\x"}', '1:8 invalid JSON: invalid escape sequence in string'],
    ['{"a": "\t"}', '1:8 invalid JSON: control character in string; escape it'],
    ['{"a": 01}', "1:8 invalid JSON: expected ',' or '}'"],
    ['{"a": -}', '1:7 invalid JSON: invalid number'],
    ['[1, 2,]', "1:7 invalid JSON: trailing comma before ']'"],
    ["{'a': 1}", '1:2 invalid JSON: JSON needs double quotes, not single quotes'],
    ['{"a": 1 /* x */}', '1:9 invalid JSON: comments are not allowed in JSON'],
    ['', '1:1 invalid JSON: unexpected end of file, expected a value'],
  ])('rejects %j', (text, message) => {
    expect(syntaxError(text)).toBe(message);
  });
});

describe('formatKeyPath', () => {
  it('dots plain keys and brackets indexes and unusual keys', () => {
    expect(formatKeyPath(['agent', 'env', 'MY.VAR'])).toBe('agent.env["MY.VAR"]');
    expect(formatKeyPath(['worktrees', 'setup', 2])).toBe('worktrees.setup[2]');
    expect(formatKeyPath([])).toBe('');
  });
});
