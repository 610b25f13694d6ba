import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Pair, type YAMLMap } from 'yaml';
import type { core } from 'zod';
import { error, warning, type Diagnostic } from '../diagnostics.js';
import { closest } from '../util/did-you-mean.js';
import { describeZodIssue, show } from '../util/describe-zod-issue.js';
import { guessMilestoneId } from './ids.js';
import type { Position } from './source.js';
import { BODY_ONLY_KEYS, isSettingKey, SETTING_ALIASES, SETTING_SPECS } from './task-settings.js';
import type { DependencyRef, TaskSettings } from './types.js';

/** Every key a milestone's front matter may set. */
export const TASK_SETTING_KEYS: readonly string[] = Object.keys(SETTING_SPECS);

export interface FrontMatterSplit {
  /** The YAML between the fences, or null when the file has no front matter. */
  yaml: string | null;
  /** 1-based file line of the YAML's first line. */
  yamlStartLine: number;
  /** Everything after the closing fence (the whole text when there is no front matter). */
  body: string;
  /** Where `body` starts in the text. */
  bodyOffset: number;
  /** 1-based file line where `body` starts. */
  bodyStartLine: number;
  diagnostics: Diagnostic[];
}

const OPENING_FENCE = /^---[ \t]*(?:\n|$)/;
const CLOSING_FENCE = /^(?:---|\.\.\.)[ \t]*$/;

/**
 * Splits `---` fenced front matter from normalised text. Done by hand rather than with gray-matter because
 * gray-matter parses the YAML itself (and throws on bad YAML); here we only need the exact line boundaries.
 */
export function splitFrontMatter(text: string, file: string): FrontMatterSplit {
  const noFrontMatter = { yaml: null, yamlStartLine: 1, body: text, bodyOffset: 0, bodyStartLine: 1 };
  if (!OPENING_FENCE.test(text)) return { ...noFrontMatter, diagnostics: [] };
  const lines = text.split('\n');
  const closing = lines.findIndex((line, index) => index > 0 && CLOSING_FENCE.test(line));
  if (closing === -1) {
    const diagnostic = error('unclosed-front-matter', 'the front matter opened by "---" on line 1 is never closed', {
      file,
      line: 1,
      col: 1,
      hint: 'add a line with just "---" after the settings, or remove line 1 if it was meant as a horizontal rule',
    });
    return { ...noFrontMatter, diagnostics: [diagnostic] };
  }
  const yaml = lines.slice(1, closing).join('\n');
  const bodyOffset = lines.slice(0, closing + 1).reduce((sum, line) => sum + line.length + 1, 0);
  return {
    yaml,
    yamlStartLine: 2,
    body: text.slice(Math.min(bodyOffset, text.length)),
    bodyOffset: Math.min(bodyOffset, text.length),
    bodyStartLine: closing + 2,
    diagnostics: [],
  };
}

export interface FrontMatterResult {
  settings: TaskSettings;
  /** From `depends_on`, each located at the id as written. */
  dependencies: DependencyRef[];
  diagnostics: Diagnostic[];
}

/** Parses and checks front matter YAML; `yamlStartLine` maps YAML lines back to file lines. */
export function parseFrontMatter(yaml: string, yamlStartLine: number, file: string): FrontMatterResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yaml, { lineCounter, prettyErrors: false });
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
    result.diagnostics.push(
      error('front-matter-not-mapping', `front matter must be a mapping of settings, but it is ${what}`, {
        file,
        ...locate(contents.range?.[0]),
        hint: `write settings as "key: value" lines, for example "model: sonnet", or remove the front matter`,
      }),
    );
    return result;
  }
  readSettings(contents, { file, locate, doc }, result);
  return result;
}

interface Context {
  file: string;
  locate: (offset: number | undefined) => Position;
  doc: Document;
}

function readSettings(map: YAMLMap, context: Context, result: FrontMatterResult): void {
  for (const pair of map.items) {
    const key = keyText(pair);
    const keyAt = context.locate(nodeStart(pair.key));
    if (!isSettingKey(key)) {
      result.diagnostics.push(unknownKeyDiagnostic(key, context.file, keyAt));
      continue;
    }
    const value: unknown = isNode(pair.value) ? pair.value.toJS(context.doc) : (pair.value ?? null);
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

function keyText(pair: Pair): string {
  const key: unknown = pair.key;
  if (isScalar(key)) return String(key.value);
  return isNode(key) ? key.toString() : String(key);
}

function nodeStart(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}

function unknownKeyDiagnostic(key: string, file: string, at: Position): Diagnostic {
  const bodyOnly = BODY_ONLY_KEYS[key.toLowerCase()];
  const suggestion = SETTING_ALIASES[key.toLowerCase()] ?? closest(key, TASK_SETTING_KEYS);
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
  const singleId = typeof value === 'string' || typeof value === 'number';
  if (key === 'depends_on' && singleId) {
    return invalidDependencyIdDiagnostic(value, 0, context.file, context.locate(nodeStart(pair.value) ?? nodeStart(pair.key)));
  }
  if (typeof index !== 'number') {
    const got = value === null ? 'nothing' : show(value);
    return error('invalid-front-matter-value', `${key}: expected ${spec.expected}, got ${got}`, {
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
  const items: unknown[] = isSeq(pair.value) ? pair.value.items : [pair.value];
  return ids.map((id, index) => ({
    id,
    source: 'front_matter' as const,
    ...context.locate(nodeStart(items[index]) ?? nodeStart(pair.key)),
  }));
}
