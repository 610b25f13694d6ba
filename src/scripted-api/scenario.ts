import { readFileSync } from 'node:fs';
import { isMap, isNode, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { core } from 'zod';
import { describeZodIssue } from '../util/describe-zod-issue.js';
import { knownKeysAt, scenarioSchema } from './scenario-schema.js';
import type { Scenario } from './types.js';

export type { ScenarioInput } from './scenario-schema.js';

export interface ScenarioProblem {
  /** Where in the scenario, e.g. `rules[2].reply.fault`. */
  where: string;
  message: string;
  line?: number;
  col?: number;
}

/** A scenario that cannot be used. The message names the file and line of every problem. */
export class ScenarioError extends Error {
  constructor(
    readonly source: string,
    readonly problems: ScenarioProblem[],
  ) {
    super(`invalid scenario ${source}:\n${problems.map((p) => `  ${formatProblem(source, p)}`).join('\n')}`);
    this.name = 'ScenarioError';
  }
}

function formatProblem(source: string, p: ScenarioProblem): string {
  const at = p.line === undefined ? source : `${source}:${p.line}:${p.col ?? 1}`;
  return `${at}: ${p.where ? `${p.where}: ` : ''}${p.message}`;
}

/**
 * Validates a scenario object (a `ScenarioInput`: shorthands allowed) and expands it. Takes `unknown` because it
 * checks everything anyway. Throws `ScenarioError`.
 */
export function parseScenario(input: unknown, source = '<scenario object>'): Scenario {
  return validate(input, source, () => ({}));
}

/** Reads a scenario from a `.yaml`, `.yml` or `.json` file (JSON is read as YAML, which it is a subset of). */
export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(path, [{ where: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      path,
      doc.errors.map((e) => ({ where: '', message: e.message.split('\n')[0] ?? e.message, ...linePos(lines, e.pos[0]) })),
    );
  }
  return validate(doc.toJS(), path, (issuePath) => locate(doc, lines, issuePath));
}

function validate(
  input: unknown,
  source: string,
  position: (path: readonly PropertyKey[]) => { line?: number; col?: number },
): Scenario {
  const parsed = scenarioSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw new ScenarioError(
    source,
    parsed.error.issues.map((issue) => ({
      where: formatPath(issue.path),
      message: describeZodIssue(issue, knownKeysAt(issue.path)),
      ...position(issuePathForPosition(issue)),
    })),
  );
}

/** For an unknown key, point at the key itself rather than at the object holding it. */
function issuePathForPosition(issue: core.$ZodIssue): PropertyKey[] {
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) return [...issue.path, issue.keys[0]];
  return issue.path;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/**
 * Line and column of the deepest node on `path` that exists in the document. Shorthand expansion makes some issue
 * paths (e.g. `reply.text` for `reply: 42`) go deeper than the file does, so walk up until something is there.
 */
function locate(doc: Document, lines: LineCounter, issuePath: readonly PropertyKey[]): { line?: number; col?: number } {
  // A file that is a bare list of rules has no `rules` key: the schema added it.
  const path = isSeq(doc.contents) && issuePath[0] === 'rules' ? issuePath.slice(1) : issuePath;
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth) as (string | number)[];
    const node = depth === 0 ? doc.contents : keyOrValueNode(doc, prefix);
    if (isNode(node) && node.range) return linePos(lines, node.range[0]);
  }
  return {};
}

/** The value node at `path`; for a map key whose value is missing, the key node. */
function keyOrValueNode(doc: Document, path: (string | number)[]): Node | undefined {
  const value = doc.getIn(path, true);
  if (isNode(value)) return value;
  const parent = doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === path[path.length - 1]);
  return isNode(pair?.key) ? pair.key : undefined;
}

function linePos(lines: LineCounter, offset: number): { line: number; col: number } {
  return lines.linePos(offset);
}
