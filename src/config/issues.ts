import type { core, ZodType } from 'zod';
import { error, type Diagnostic } from '../diagnostics.js';
import { describeZodIssue, show } from '../util/describe-zod-issue.js';
import { isPhrasedMessage } from './fields.js';
import type { KeyPath, Position } from './source.js';

/** Where a config value came from, so each issue can name its file and point at its key. */
export interface IssueContext {
  /** Config file as shown to the user, or undefined for values that did not come from a file. */
  file?: string;
  /** Keys above the config inside the file (`["orchestrator"]` in package.json). */
  prefix: KeyPath;
  locate(path: KeyPath): Position | undefined;
}

/** One diagnostic per problem; an issue listing several unknown keys becomes one per key, each with its own place. */
export function issuesToDiagnostics(issues: readonly core.$ZodIssue[], schema: ZodType, ctx: IssueContext): Diagnostic[] {
  return issues.flatMap((issue) => {
    const at = keyPathOf(issue);
    if (issue.code !== 'unrecognized_keys') {
      return [toDiagnostic('config-invalid', at, describeIssue(issue), ctx)];
    }
    const known = knownKeysAt(schema, at).filter((k) => k !== '$schema');
    return issue.keys.map((key) =>
      toDiagnostic('config-unknown-key', [...at, key], describeZodIssue({ ...issue, keys: [key] }, known), ctx, at),
    );
  });
}

/** zod paths may hold symbols in general; parsed config files cannot, so spell any as strings. */
export function keyPathOf(issue: core.$ZodIssue): KeyPath {
  return issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
}

/** Our own schema phrases already say what was expected; zod's stock issues go through the shared describer. */
export function describeIssue(issue: core.$ZodIssue): string {
  if (isPhrasedMessage(issue.message)) return `${issue.message}${'input' in issue ? `, got ${show(issue.input)}` : ''}`;
  return describeZodIssue(issue);
}

function toDiagnostic(code: string, path: KeyPath, text: string, ctx: IssueContext, labelPath: KeyPath = path): Diagnostic {
  const label = formatKeyPath([...ctx.prefix, ...labelPath]);
  const where = ctx.locate([...ctx.prefix, ...path]);
  return error(code, label ? `${label}: ${text}` : text, {
    ...(ctx.file !== undefined ? { file: ctx.file } : {}),
    ...(where ?? {}),
  });
}

/** `agent.env["MY.VAR"]`, `worktrees.setup[1]`: dotted where the key allows it. */
export function formatKeyPath(path: KeyPath): string {
  return path.reduce<string>((out, segment) => {
    if (typeof segment === 'number') return `${out}[${segment}]`;
    if (/^[A-Za-z_$][\w$-]*$/.test(segment)) return out ? `${out}.${segment}` : segment;
    return `${out}[${JSON.stringify(segment)}]`;
  }, '');
}

/** The keys an object in the schema accepts at `path`, for did-you-mean suggestions. */
export function knownKeysAt(schema: ZodType, path: KeyPath): string[] {
  let node: unknown = schema;
  for (const segment of path) {
    const shape = objectShape(node);
    if (!shape || typeof segment !== 'string') return [];
    node = shape[segment];
  }
  return Object.keys(objectShape(node) ?? {});
}

/** Looks through default/prefault/optional/nullable/pipe wrappers for an object's shape. */
function objectShape(node: unknown): Record<string, unknown> | undefined {
  for (let depth = 0; depth < 10 && node; depth++) {
    const def = (node as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return undefined;
    if (def.type === 'object') return def.shape as Record<string, unknown>;
    node = def.innerType ?? def.in;
  }
  return undefined;
}
