import matter from 'gray-matter';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Pair, type YAMLMap } from 'yaml';
import type { core } from 'zod';
import { error, warning, type Diagnostic } from '../diagnostics.js';
import { closest } from '../util/did-you-mean.js';
import { describeZodIssue, show } from '../util/describe-zod-issue.js';
import { guessMilestoneId } from './ids.js';
import type { Position } from './source.js';
import { splitWithoutFrontMatter, type FrontMatterSplit } from './front-matter-fence.js';
import { BODY_ONLY_KEYS, isSettingKey, SETTING_ALIASES, SETTING_SPECS, splitDependencyIds } from './task-settings.js';

export type { FrontMatterSplit } from './front-matter-fence.js';
import type { DependencyRef, TaskSettings } from './types.js';

/** Every key a milestone's front matter may set. */
export const TASK_SETTING_KEYS: readonly string[] = Object.keys(SETTING_SPECS);

/** The YAML of a front matter block as the `yaml` package's Document, with the line counter that locates its nodes. */
export interface ParsedYaml {
  doc: Document;
  lineCounter: LineCounter;
}

const CLOSING_FENCE = /^---[ \t]*$/;

/**
 * gray-matter's YAML engine: the `yaml` package's parseDocument, which keeps every node's source range (so each
 * diagnostic has a file:line:col) and collects syntax errors instead of throwing (gray-matter's default engine,
 * js-yaml, throws on the first). gray-matter hands it the raw block and stores what it returns as `data`.
 */
export function parseYaml(yaml: string): ParsedYaml {
  const lineCounter = new LineCounter();
  return { doc: parseDocument(yaml, { lineCounter, prettyErrors: false }), lineCounter };
}

/**
 * Splits `---` fenced front matter from normalised text with gray-matter, the splitter the design names, and
 * parses the YAML with the engine above. gray-matter gives the block and the text after it; the file lines the
 * rest of the parser reports are computed from those: the YAML starts on line 2, the body on the line after
 * the closing fence. Two of gray-matter's leniencies are reported rather than followed silently: a block never
 * closed (gray-matter reads the whole file as YAML) and a closing line with more than "---" on it (gray-matter
 * closes on any line starting with "---").
 */
export function splitFrontMatter(text: string, file: string): FrontMatterSplit {
  const without = splitWithoutFrontMatter(text, file);
  if (without) return without;
  const noFrontMatter = { yaml: null, parsed: null, yamlStartLine: 1, body: text, bodyOffset: 0, bodyStartLine: 1 };
  let parsed: ParsedYaml | undefined;
  // The block gray-matter hands the engine starts with the rest of the opening line (blank, by OPENING_FENCE):
  // the engine parses from line 2, so node positions are relative to the YAML's first line.
  const engine = (block: string) => (parsed = parseYaml(afterFirstLine(block))) as unknown as object;
  const split = matter(text, { language: 'yaml', delimiters: '---', engines: { yaml: { parse: engine } } });
  // gray-matter's `matter` is the text after the opening "---" up to (not including) the newline before the closing one.
  const block = split.matter;
  if (3 + block.length >= text.length) return { ...noFrontMatter, diagnostics: [unclosed(text, file)] };
  const closeStart = 3 + block.length + 1;
  const lineEnd = text.indexOf('\n', closeStart);
  const closingText = text.slice(closeStart, lineEnd === -1 ? text.length : lineEnd);
  const closingLine = lineOf(text, closeStart);
  const diagnostics: Diagnostic[] = [];
  if (!CLOSING_FENCE.test(closingText)) {
    diagnostics.push(
      error('front-matter-closing-fence', `the front matter is closed by "${closingText}" on line ${closingLine}, which has more than "---" on it`, {
        file,
        line: closingLine,
        col: 1,
        hint: 'write the closing "---" on a line of its own, and start no settings line with "---"',
      }),
    );
  }
  const yaml = afterFirstLine(block);
  const bodyOffset = lineEnd === -1 ? text.length : lineEnd + 1;
  return {
    yaml,
    // A block of only comments and blank lines is not handed to the engine.
    parsed: parsed ?? parseYaml(yaml),
    yamlStartLine: 2,
    body: text.slice(bodyOffset),
    bodyOffset,
    bodyStartLine: closingLine + 1,
    diagnostics,
  };
}

function afterFirstLine(block: string): string {
  const newline = block.indexOf('\n');
  return newline === -1 ? '' : block.slice(newline + 1);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line += 1;
  return line;
}

function unclosed(text: string, file: string): Diagnostic {
  // YAML's own document end marker: gray-matter (like most front matter readers) does not take it as a fence.
  const dots = text.split('\n').findIndex((line, index) => index > 0 && /^\.\.\.[ \t]*$/.test(line));
  return error('unclosed-front-matter', 'the front matter opened by "---" on line 1 is never closed', {
    file,
    line: 1,
    col: 1,
    hint:
      dots === -1
        ? 'add a line with just "---" after the settings, or remove line 1 if it was meant as a horizontal rule'
        : `close it with "---" instead of the "..." on line ${dots + 1}`,
  });
}

export interface FrontMatterResult {
  settings: TaskSettings;
  /** From `depends_on`, each located at the id as written. */
  dependencies: DependencyRef[];
  diagnostics: Diagnostic[];
}

/**
 * Parses and checks front matter YAML; `yamlStartLine` maps YAML lines back to file lines. `closingLine`, the
 * file line of the closing `---`, makes the hints more precise. `parsed` is the split's own parse of `yaml`.
 */
export function parseFrontMatter(yaml: string, yamlStartLine: number, file: string, closingLine?: number, parsed: ParsedYaml = parseYaml(yaml)): FrontMatterResult {
  const { doc, lineCounter } = parsed;
  const locate = (offset: number | undefined): Position => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { line: line + yamlStartLine - 1, col };
  };
  const result: FrontMatterResult = { settings: {}, dependencies: [], diagnostics: [] };
  for (const warn of doc.warnings) {
    result.diagnostics.push(warning('yaml-warning', `front matter: ${warn.message}`, { file, ...locate(warn.pos[0]) }));
  }
  if (doc.errors.length > 0) {
    for (const problem of doc.errors) {
      result.diagnostics.push(
        error('invalid-yaml', `invalid YAML in front matter: ${problem.message}`, {
          file,
          ...locate(problem.pos[0]),
          hint: 'front matter is "key: value" lines between two "---" lines; fix the YAML syntax here (indent with spaces, quote values containing ": ")',
        }),
      );
    }
    return result;
  }
  const contents = doc.contents;
  if (contents === null) return result;
  if (!isMap(contents)) {
    const what = isSeq(contents) ? 'a list' : 'a single value';
    // Usually a file that starts with a "---" horizontal rule and has another one further down.
    const span = closingLine === undefined ? '' : `everything from the "---" on line ${yamlStartLine - 1} to the "---" on line ${closingLine} is front matter; `;
    result.diagnostics.push(
      error('front-matter-not-mapping', `front matter must be a mapping of settings, but it is ${what}`, {
        file,
        ...locate(contents.range?.[0]),
        hint: `${span}write settings as "key: value" lines, for example "model: sonnet"; if line ${yamlStartLine - 1} is meant as a horizontal rule, remove it`,
      }),
    );
    return result;
  }
  readSettings(contents, { file, locate, doc, yaml }, result);
  return result;
}

interface Context {
  file: string;
  locate: (offset: number | undefined) => Position;
  doc: Document;
  /** The YAML text, to see how a value was written. */
  yaml: string;
}

function readSettings(map: YAMLMap, context: Context, result: FrontMatterResult): void {
  for (const pair of map.items) {
    const key = keyText(pair);
    const keyAt = context.locate(nodeStart(pair.key));
    if (!isSettingKey(key)) {
      result.diagnostics.push(unknownKeyDiagnostic(key, context.file, keyAt));
      continue;
    }
    const read = valueOf(pair, context);
    if ('problem' in read) {
      result.diagnostics.push(error('invalid-yaml', `invalid YAML in front matter: ${key}: ${read.problem}`, { file: context.file, ...keyAt, hint: `write it like "${SETTING_SPECS[key].example}"` }));
      continue;
    }
    const value = read.value;
    const merged = mergedListItem(key, pair, context);
    if (merged) {
      result.diagnostics.push(merged);
      continue;
    }
    const parsed = SETTING_SPECS[key].schema.safeParse(value, { reportInput: true });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        result.diagnostics.push(invalidValueDiagnostic(key, value, issue, pair, context, keyAt));
      }
      continue;
    }
    (result.settings as Record<string, unknown>)[key] = parsed.data;
    if (key === 'depends_on') result.dependencies.push(...dependencyRefs(pair, parsed.data as string[], context));
  }
}

/** The value as plain data; YAML's own limits (e.g. on aliases) throw, which is the user's input, not a bug. */
function valueOf(pair: Pair, context: Context): { value: unknown } | { problem: string } {
  try {
    return { value: isNode(pair.value) ? pair.value.toJS(context.doc) : (pair.value ?? null) };
  } catch (cause) {
    return { problem: cause instanceof Error ? cause.message : String(cause) };
  }
}

/**
 * `checks:\n  - npm test\n   - npm run lint`: the second "-" is indented further than the first, so YAML reads
 * "npm test - npm run lint" as ONE plain value. Valid YAML, never what was meant, and it would only fail later.
 */
function mergedListItem(key: string, pair: Pair, context: Context): Diagnostic | undefined {
  const candidates: unknown[] = isSeq(pair.value) ? pair.value.items : [pair.value];
  for (const node of candidates) {
    if (!isScalar(node) || node.type !== 'PLAIN' || !node.range) continue;
    const written = context.yaml.slice(node.range[0], node.range[1]);
    const dash = /\n[ \t]*- /.exec(written);
    if (!dash) continue;
    const at = context.locate(node.range[0] + dash.index + 1 + (dash[0].length - 3));
    return error('front-matter-list-indent', `${key}: the "- " on line ${at.line} is indented further than the item above it, so YAML joins them into one value ${show(node.value)}`, {
      file: context.file,
      ...at,
      hint: 'put the "-" of every list item in the same column',
    });
  }
  return undefined;
}

function keyText(pair: Pair): string {
  const key: unknown = pair.key;
  if (isScalar(key)) return String(key.value);
  return isNode(key) ? key.toString() : String(key);
}

function nodeStart(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}

function unknownKeyDiagnostic(key: string, file: string, at: Position): Diagnostic {
  const lower = key.toLowerCase();
  // Own properties only: "constructor" or "__proto__" must not find Object.prototype's members.
  const bodyOnly = Object.hasOwn(BODY_ONLY_KEYS, lower) ? BODY_ONLY_KEYS[lower] : undefined;
  const alias = Object.hasOwn(SETTING_ALIASES, lower) ? SETTING_ALIASES[lower] : undefined;
  const suggestion = alias ?? closest(key, TASK_SETTING_KEYS);
  const hint = bodyOnly
    ? `"${key}" is not a setting; ${bodyOnly} in the markdown body`
    : suggestion
      ? `did you mean "${suggestion}"? Known keys: ${TASK_SETTING_KEYS.join(', ')}`
      : `known keys: ${TASK_SETTING_KEYS.join(', ')}`;
  return error('unknown-front-matter-key', `unknown front matter key "${key}"`, { file, ...at, hint });
}

/**
 * A whole value of the wrong shape is described with the setting's own "expected" phrase (zod's wording for
 * unions and pipes is too technical); a bad item in a list is pointed at and described by describeZodIssue.
 */
function invalidValueDiagnostic(
  key: keyof TaskSettings,
  value: unknown,
  issue: core.$ZodIssue,
  pair: Pair,
  context: Context,
  keyAt: Position,
): Diagnostic {
  const spec = SETTING_SPECS[key];
  const index = Array.isArray(value) ? issue.path[0] : undefined;
  if (key === 'depends_on' && typeof value === 'string') {
    // One string may list several ids ("1A, 1B"): point at the one that is wrong.
    const parts = splitDependencyIds(value);
    const part = typeof issue.path[0] === 'number' ? issue.path[0] : 0;
    const written = parts[part] ?? value;
    return invalidDependencyIdDiagnostic(written, 0, context.file, context.locate(offsetInScalar(pair.value, context, written) ?? nodeStart(pair.key)));
  }
  if (key === 'depends_on' && typeof value === 'number') {
    return invalidDependencyIdDiagnostic(value, 0, context.file, context.locate(nodeStart(pair.value) ?? nodeStart(pair.key)));
  }
  if (typeof index !== 'number') {
    const got = value === null ? 'nothing' : typeof value === 'number' && !Number.isFinite(value) ? String(value) : show(value);
    // A limit (e.g. the longest timeout) says more than the general shape of the value.
    const expected = issue.code === 'custom' && issue.message.startsWith('expected at most ') ? issue.message.slice('expected '.length) : spec.expected;
    return error('invalid-front-matter-value', `${key}: expected ${expected}, got ${got}`, {
      file: context.file,
      ...keyAt,
      hint: `write it like "${spec.example}"`,
    });
  }
  const item = isSeq(pair.value) ? pair.value.items[index] : undefined;
  const itemAt = item === undefined ? keyAt : context.locate(nodeStart(item));
  if (key === 'depends_on') return invalidDependencyIdDiagnostic(value, index, context.file, itemAt);
  return error('invalid-front-matter-value', `${key}[${index}]: ${describeZodIssue(issue)}`, {
    file: context.file,
    ...itemAt,
    hint: `write it like "${spec.example}"`,
  });
}

function invalidDependencyIdDiagnostic(value: unknown, index: number, file: string, at: Position): Diagnostic {
  const written = Array.isArray(value) ? (value as unknown[])[index] : value;
  const guess = typeof written === 'string' || typeof written === 'number' ? guessMilestoneId(String(written)) : undefined;
  return error('invalid-dependency-id', `depends_on: ${show(written)} is not a milestone id (a stage digit 1-9 and a capital letter, like 1A)`, {
    file,
    ...at,
    hint: guess ? `write ${guess}` : 'use the id of a milestone file, e.g. 1A for 1A.md',
  });
}

function dependencyRefs(pair: Pair, ids: string[], context: Context): DependencyRef[] {
  if (!isSeq(pair.value)) {
    const start = nodeStart(pair.value) ?? 0;
    let from = 0;
    return ids.map((id) => {
      const offset = offsetInScalar(pair.value, context, id, from);
      if (offset !== undefined) from = offset - start + id.length;
      return { id, source: 'front_matter' as const, ...context.locate(offset ?? nodeStart(pair.key)) };
    });
  }
  const items: unknown[] = pair.value.items;
  return ids.map((id, index) => ({
    id,
    source: 'front_matter' as const,
    ...context.locate(nodeStart(items[index]) ?? nodeStart(pair.key)),
  }));
}

/** Where `text` is written inside a scalar's source (searching from `from` characters into it). */
function offsetInScalar(node: unknown, context: Context, text: string, from = 0): number | undefined {
  if (!isScalar(node) || !node.range) return nodeStart(node);
  const written = context.yaml.slice(node.range[0], node.range[1]);
  const index = written.indexOf(text, from);
  return index === -1 ? node.range[0] : node.range[0] + index;
}
