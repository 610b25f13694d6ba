import type { RequestView } from './request-view.js';
import type { MessageReply, Usage } from './types.js';

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** An assistant message as the Messages API returns it (non-streaming shape; the SSE encoder slices it up). */
export interface ApiMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: 'end_turn' | 'tool_use';
  stop_sequence: null;
  usage: Usage;
}

/**
 * Deterministic ids: `msg_0001`, `toolu_0001`, `req_0001`, counting over the server's lifetime. Side requests use
 * their own source (prefix `side_`) so that how many classifier calls the CLI makes never shifts the agent's ids.
 */
export class IdSource {
  private counts = { msg: 0, toolu: 0, req: 0 };

  constructor(private readonly prefix = '') {}

  next(kind: 'msg' | 'toolu' | 'req'): string {
    this.counts[kind] += 1;
    return `${kind}_${this.prefix}${String(this.counts[kind]).padStart(4, '0')}`;
  }
}

/** A reply that cannot be built for this request; the server answers 400 so the run fails loudly. */
export class ReplyError extends Error {}

const STRUCTURED_OUTPUT_TOOL = 'StructuredOutput';

export function buildMessage(reply: MessageReply, view: RequestView, ids: IdSource, defaultUsage: Usage): ApiMessage {
  const fill = (value: unknown) => fillCwd(value, view.cwd);
  const content: ContentBlock[] = [];
  if (reply.text !== undefined) content.push({ type: 'text', text: fill(reply.text) as string });
  for (const tool of reply.toolUses) content.push(toolUse(ids, tool.name, fill(tool.input)));
  if (reply.structuredOutput !== undefined) content.push(structuredBlock(reply.structuredOutput, view, ids));
  return {
    id: ids.next('msg'),
    type: 'message',
    role: 'assistant',
    // Echo the request's model so the CLI's cost and model bookkeeping line up with what it asked for.
    model: view.model,
    content,
    stop_reason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { ...defaultUsage, ...reply.usage },
  };
}

/**
 * With `--json-schema` the CLI offers a StructuredOutput tool and takes its input as the result. Without that tool
 * there is nothing to call, so answer the JSON as text, as a model would.
 */
function structuredBlock(output: Record<string, unknown>, view: RequestView, ids: IdSource): ContentBlock {
  if (view.toolNames.includes(STRUCTURED_OUTPUT_TOOL)) return toolUse(ids, STRUCTURED_OUTPUT_TOOL, output);
  return { type: 'text', text: JSON.stringify(output) };
}

function toolUse(ids: IdSource, name: string, input: unknown): ContentBlock {
  return { type: 'tool_use', id: ids.next('toolu'), name, input: input as Record<string, unknown> };
}

/** Replaces `{{cwd}}` in every string inside `value` with the working directory the CLI announced. */
export function fillCwd(value: unknown, cwd: string | undefined): unknown {
  if (typeof value === 'string') {
    if (!value.includes('{{cwd}}')) return value;
    if (cwd === undefined) throw new ReplyError('the reply uses {{cwd}} but the request names no "Primary working directory"');
    return value.replaceAll('{{cwd}}', cwd);
  }
  if (Array.isArray(value)) return value.map((v) => fillCwd(v, cwd));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillCwd(v, cwd)]));
  }
  return value;
}
