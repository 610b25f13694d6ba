import { ConfigSyntaxError, pathKey, positionAt, stripBom, type KeyPath, type ParsedSource } from './source.js';

/**
 * A strict JSON reader that also records where every key starts. JSON.parse alone cannot do this, and
 * on Node 20 some of its syntax errors carry no position at all; a YAML parser would silently accept
 * things that are not JSON (comments, trailing commas). The grammar is RFC 8259; values are decoded
 * with JSON.parse so escapes and numbers behave exactly as everywhere else.
 */
export function parseJsonSource(raw: string): ParsedSource {
  const text = stripBom(raw);
  const scanner = new Scanner(text);
  try {
    scanner.document();
  } catch (e) {
    if (e instanceof ScanError) {
      const known = commonMistake(text, e.offset);
      throw new ConfigSyntaxError([
        {
          ...positionAt(text, e.offset),
          message: `invalid JSON: ${known?.message ?? e.message}`,
          hint: known?.hint ?? JSON_HINT,
        },
      ]);
    }
    throw e;
  }
  const positions = new Map([...scanner.offsets].map(([key, offset]) => [key, positionAt(text, offset)]));
  const warnings = scanner.duplicates.map((d) => ({
    ...positionAt(text, d.offset),
    message: `duplicate key "${d.key}"; the last one is used`,
  }));
  return { value: JSON.parse(text) as unknown, positions, warnings };
}

const JSON_HINT = 'fix the JSON here: keys and strings in double quotes, no trailing commas, no comments';
const YAML_INSTEAD = 'or write the configuration as orchestrator.config.yaml, which allows comments';

/**
 * The mistakes people make in a JSON config (the original tool's README shows `# comments` in its JSON), said
 * plainly instead of "expected a double-quoted property name".
 */
function commonMistake(text: string, offset: number): { message: string; hint: string } | undefined {
  const rest = text.slice(offset);
  if (rest.startsWith('#') || rest.startsWith('//') || rest.startsWith('/*')) {
    return { message: 'comments are not allowed in JSON', hint: `remove the comment, ${YAML_INSTEAD}` };
  }
  if (rest.startsWith("'")) {
    return { message: 'JSON needs double quotes, not single quotes', hint: 'write "key": "value" with double quotes' };
  }
  return undefined;
}

class ScanError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

class Scanner {
  private i = 0;
  readonly offsets = new Map<string, number>();
  readonly duplicates: { key: string; offset: number }[] = [];

  constructor(private readonly text: string) {}

  document(): void {
    this.value([]);
    this.skipSpace();
    if (this.i < this.text.length) this.fail('unexpected content after the end of the document');
  }

  private value(path: KeyPath): void {
    this.skipSpace();
    const c = this.text[this.i];
    if (path.length === 0) this.offsets.set(pathKey(path), this.i);
    if (c === '{') return this.object(path);
    if (c === '[') return this.array(path);
    if (c === '"') return void this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.i)) {
        this.i += literal.length;
        return;
      }
    }
    this.fail(c === undefined ? 'unexpected end of file, expected a value' : `unexpected ${describeChar(c)}, expected a value`);
  }

  private object(path: KeyPath): void {
    this.i++; // {
    this.skipSpace();
    if (this.text[this.i] === '}') {
      this.i++;
      return;
    }
    const seen = new Set<string>();
    for (;;) {
      this.skipSpace();
      if (this.text[this.i] !== '"') this.fail('expected a double-quoted property name');
      const keyOffset = this.i;
      const key = this.string();
      if (seen.has(key)) this.duplicates.push({ key, offset: keyOffset });
      seen.add(key);
      this.offsets.set(pathKey([...path, key]), keyOffset);
      this.skipSpace();
      this.expect(':', "expected ':' after a property name");
      this.value([...path, key]);
      if (this.endOfList('}')) return;
    }
  }

  private array(path: KeyPath): void {
    this.i++; // [
    this.skipSpace();
    if (this.text[this.i] === ']') {
      this.i++;
      return;
    }
    for (let index = 0; ; index++) {
      this.skipSpace();
      this.offsets.set(pathKey([...path, index]), this.i);
      this.value([...path, index]);
      if (this.endOfList(']')) return;
    }
  }

  /** After an item: `,` continues, `close` ends the list, anything else is an error. */
  private endOfList(close: '}' | ']'): boolean {
    this.skipSpace();
    const c = this.text[this.i];
    if (c === ',') {
      this.i++;
      this.skipSpace();
      if (this.text[this.i] === close) this.fail(`trailing comma before '${close}'`);
      return false;
    }
    if (c === close) {
      this.i++;
      return true;
    }
    this.fail(`expected ',' or '${close}'`);
  }

  private string(): string {
    const start = this.i;
    this.i++; // opening quote
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined || c === '\n') this.fail('unterminated string', start);
      if (c === '"') break;
      if (c === '\\') {
        ESCAPE.lastIndex = this.i;
        if (!ESCAPE.test(this.text)) this.fail('invalid escape sequence in string');
        this.i = ESCAPE.lastIndex;
        continue;
      }
      if (c < ' ') this.fail('control character in string; escape it');
      this.i++;
    }
    this.i++; // closing quote
    return JSON.parse(this.text.slice(start, this.i)) as string;
  }

  private number(): void {
    NUMBER.lastIndex = this.i;
    if (!NUMBER.test(this.text)) this.fail('invalid number');
    this.i = NUMBER.lastIndex;
  }

  private expect(char: string, message: string): void {
    if (this.text[this.i] !== char) this.fail(message);
    this.i++;
  }

  private skipSpace(): void {
    while (/[ \t\n\r]/.test(this.text[this.i] ?? '')) this.i++;
  }

  private fail(message: string, offset = this.i): never {
    throw new ScanError(offset, message);
  }
}

function describeChar(c: string): string {
  return /[\s]/.test(c) ? 'whitespace' : `'${c}'`;
}
