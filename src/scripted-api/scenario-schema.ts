import { z } from 'zod';
import type { Fault, MessageReply, Reply, Rule, RuleMatch, Scenario, TextMatcher, ToolUseSpec, Usage } from './types.js';

/**
 * zod schemas for scenario files and objects. Shorthands are expanded with `z.preprocess` rather than unions so that
 * a mistake deep inside a reply is reported at its own path instead of as one opaque "invalid union".
 */

const DEFAULT_USAGE: Usage = {
  input_tokens: 10,
  output_tokens: 5,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
};

const count = z.number().int().min(0);

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const usageSchema = z.strictObject({
  input_tokens: count.optional(),
  output_tokens: count.optional(),
  cache_creation_input_tokens: count.optional(),
  cache_read_input_tokens: count.optional(),
});

const matcherObject = z.strictObject({
  substring: z.string().min(1).optional(),
  regex: z.string().min(1).optional(),
  flags: z.string().optional(),
});

const textMatcher = z.preprocess(
  (v) => (typeof v === 'string' ? { substring: v } : v),
  matcherObject.transform((m, ctx): TextMatcher => {
    if ((m.substring === undefined) === (m.regex === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give either a string, {substring: ...} or {regex: ..., flags?: ...}' });
      return z.NEVER;
    }
    if (m.substring !== undefined) return { substring: m.substring };
    try {
      return { regex: new RegExp(m.regex ?? '', m.flags) };
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}`, path: ['regex'] });
      return z.NEVER;
    }
  }),
);

const matchObject = z.strictObject({
  last_user: textMatcher.optional(),
  conversation: textMatcher.optional(),
  system: textMatcher.optional(),
  model: textMatcher.optional(),
  turn: count.optional(),
  tool_offered: z.string().min(1).optional(),
  side: z.boolean().optional(),
});

const matchSchema = matchObject.transform(
  (m): RuleMatch => ({
    ...(m.last_user && { lastUser: m.last_user }),
    ...(m.conversation && { conversation: m.conversation }),
    ...(m.system && { system: m.system }),
    ...(m.model && { model: m.model }),
    ...(m.turn !== undefined && { turn: m.turn }),
    ...(m.tool_offered && { toolOffered: m.tool_offered }),
    side: m.side ?? false,
  }),
);

const toolUseObject = z.strictObject({
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});

const faultObject = z.strictObject({
  kind: z.enum(['http', 'stall', 'hang', 'usage_limit']).optional(),
  status: z.number().int().min(400).max(599).optional(),
  retry_after: count.optional(),
  ratelimit_headers: z.boolean().optional(),
  body_message: z.string().optional(),
  resets_at: z.number().int().positive().optional(),
  resets_in: count.optional(),
  limit_type: z.enum(['five_hour', 'seven_day']).optional(),
});

/** The keys each kind of fault takes besides `kind`. */
const FAULT_KEYS = {
  http: ['status', 'retry_after', 'ratelimit_headers', 'body_message'],
  usage_limit: ['resets_at', 'resets_in', 'limit_type'],
  stall: [],
  hang: [],
} as const satisfies Record<string, readonly (keyof z.output<typeof faultObject>)[]>;

const faultSchema = z.preprocess(
  (v) => (typeof v === 'number' ? { status: v } : typeof v === 'string' ? { kind: v } : v),
  faultObject.transform((f, ctx): Fault => {
    const complain = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    const kind = f.kind ?? (f.status !== undefined ? 'http' : undefined);
    if (kind === undefined) return complain('a fault needs a status (e.g. 429) or a kind: stall, hang or usage_limit');
    const allowed: readonly string[] = FAULT_KEYS[kind];
    const extra = Object.entries(f).filter(([k, v]) => k !== 'kind' && v !== undefined && !allowed.includes(k));
    if (extra.length > 0) return complain(`${extra.map(([k]) => k).join(', ')} do not apply to ${kind} faults`);
    switch (kind) {
      case 'http':
        if (f.status === undefined) return complain('an http fault needs a status');
        return {
          kind,
          status: f.status,
          ratelimitHeaders: f.ratelimit_headers ?? false,
          ...(f.retry_after !== undefined && { retryAfter: f.retry_after }),
          ...(f.body_message !== undefined && { bodyMessage: f.body_message }),
        };
      case 'usage_limit':
        if (f.resets_at !== undefined && f.resets_in !== undefined) return complain('give resets_at or resets_in, not both');
        return {
          kind,
          limitType: f.limit_type ?? 'five_hour',
          ...(f.resets_at !== undefined && { resetsAt: f.resets_at }),
          ...(f.resets_in !== undefined && { resetsIn: f.resets_in }),
        };
      default:
        return { kind };
    }
  }),
);

const replyObject = z.strictObject({
  text: z.string().optional(),
  tool_use: z.preprocess((v) => (isPlainObject(v) ? [v] : v), z.array(toolUseObject).min(1)).optional(),
  structured_output: z.record(z.string(), z.unknown()).optional(),
  verdict: z.enum(['approve', 'request_changes']).optional(),
  summary: z.string().optional(),
  findings: z.array(z.unknown()).optional(),
  fault: faultSchema.optional(),
  usage: usageSchema.optional(),
});

type ReplyInput = z.output<typeof replyObject>;

/** Which keys may not appear together, and the sentence that says why. */
function replyConflict(r: ReplyInput): string | undefined {
  const given = (Object.keys(r) as (keyof ReplyInput)[]).filter((k) => r[k] !== undefined);
  if (r.fault !== undefined && given.length > 1) return `a fault reply takes no other keys (got ${given.join(', ')})`;
  if (r.verdict !== undefined && r.structured_output !== undefined) return 'give either verdict or structured_output, not both';
  if ((r.verdict !== undefined || r.structured_output !== undefined) && r.tool_use !== undefined)
    return 'structured output ends the turn: put tool_use in a separate rule';
  if (r.verdict === undefined && (r.summary !== undefined || r.findings !== undefined)) return 'summary and findings belong to a verdict';
  if (r.fault === undefined && r.text === undefined && r.tool_use === undefined && r.structured_output === undefined && r.verdict === undefined)
    return 'a reply needs text, tool_use, structured_output, verdict or fault';
  return undefined;
}

function toReply(r: ReplyInput): Reply {
  if (r.fault !== undefined) return { kind: 'fault', fault: r.fault };
  const toolUses: ToolUseSpec[] = r.tool_use ?? [];
  const structuredOutput =
    r.verdict !== undefined ? { verdict: r.verdict, summary: r.summary ?? '', findings: r.findings ?? [] } : r.structured_output;
  return {
    kind: 'message',
    toolUses,
    usage: r.usage ?? {},
    ...(r.text !== undefined && { text: r.text }),
    ...(structuredOutput !== undefined && { structuredOutput }),
  };
}

const replySchema = z.preprocess(
  (v) => (typeof v === 'string' ? { text: v } : v),
  replyObject.transform((r, ctx): Reply => {
    const conflict = replyConflict(r);
    if (conflict) {
      ctx.addIssue({ code: 'custom', message: conflict });
      return z.NEVER;
    }
    return toReply(r);
  }),
);

const messageReplySchema = replySchema.refine((r): r is MessageReply => r.kind === 'message', 'the default reply cannot be a fault');

const ruleObject = z.strictObject({
  name: z.string().optional(),
  match: matchSchema.optional(),
  times: z.number().int().min(1).optional(),
  reply: replySchema,
});

const ruleSchema = ruleObject.transform(
  (r): Rule => ({
    match: r.match ?? { side: false },
    reply: r.reply,
    ...(r.name !== undefined && { name: r.name }),
    ...(r.times !== undefined && { times: r.times }),
  }),
);

const scenarioObject = z.strictObject({
  rules: z.array(ruleSchema),
  default_reply: messageReplySchema.optional(),
  usage: usageSchema.optional(),
});

export const scenarioSchema = z.preprocess(
  // A bare list is a list of rules.
  (v) => (Array.isArray(v) ? { rules: v } : v),
  scenarioObject.transform(
    (s): Scenario => ({
      rules: s.rules,
      defaultReply: (s.default_reply as MessageReply | undefined) ?? { kind: 'message', text: 'done', toolUses: [], usage: {} },
      usage: { ...DEFAULT_USAGE, ...s.usage },
    }),
  ),
);

/** A scenario as written in a file or passed as an object, shorthands allowed. */
export type ScenarioInput = z.input<typeof scenarioObject> | z.input<typeof scenarioObject>['rules'];

/**
 * Known keys at a path, for "did you mean" hints on typos. Decided by the last named segment because the same
 * objects (matchers, usage) appear at several depths.
 */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const named = [...path].reverse().find((p) => typeof p === 'string');
  const last = path[path.length - 1];
  if (named === undefined) return Object.keys(scenarioObject.shape);
  if (named === 'rules' && typeof last === 'number') return Object.keys(ruleObject.shape);
  const byName: Record<string, string[]> = {
    match: Object.keys(matchObject.shape),
    reply: Object.keys(replyObject.shape),
    default_reply: Object.keys(replyObject.shape),
    fault: Object.keys(faultObject.shape),
    usage: Object.keys(usageSchema.shape),
    tool_use: Object.keys(toolUseObject.shape),
    last_user: Object.keys(matcherObject.shape),
    conversation: Object.keys(matcherObject.shape),
    system: Object.keys(matcherObject.shape),
    model: Object.keys(matcherObject.shape),
  };
  return byName[named] ?? [];
}
