import type { AgentProgress, PermissionDenial, TokenUsage } from '../types.js';
import { countSandboxRefusals } from './sandbox.js';
import { arr, bool, epochToMs, isObject, num, obj, str, type JsonObject } from './json.js';

/**
 * Folds Claude Code's `--output-format stream-json --verbose` output, one line at a time, into what the orchestrator
 * needs. Pure: no I/O. Every line is JSON.parse'd (the `result` line does not start with `"type"`, so prefix matching
 * is wrong); a line that is not a JSON object is counted and otherwise ignored.
 */

export interface ResultSummary {
  subtype?: string;
  isError: boolean;
  /** completed, api_error, max_turns, budget_exhausted, structured_output_retry_exhausted, aborted_*, image_error… */
  terminalReason?: string;
  apiErrorStatus?: number | null;
  /** A finer error code, e.g. usage_limit_reached, connection_failed. */
  apiError?: string;
  numTurns?: number;
  totalCostUsd?: number;
  usage?: TokenUsage;
  permissionDenials: PermissionDenial[];
  /** Absent with the error_* subtypes, which carry `errors` instead. */
  resultText?: string;
  errors: string[];
  /** `--json-schema` can end in success without the key, so presence is tracked separately from the value. */
  hasStructuredOutput: boolean;
  structuredOutput?: unknown;
  durationMs?: number;
  sessionId?: string;
}

/** A synthetic assistant message the CLI emits for an API failure (`"is_api_error_message": true`). */
export interface ApiErrorNotice {
  status?: number;
  /** rate_limit, authentication_failed, billing_error, server_error, unknown… */
  error?: string;
  /** usage_limit_reached, connection_failed… */
  apiError?: string;
  text?: string;
  resetsAt?: number;
}

export interface RateLimitNotice {
  status: string;
  /** Epoch milliseconds. */
  resetsAt?: number;
  rateLimitType?: string;
}

export interface ApiRetryNotice {
  attempt?: number;
  maxRetries?: number;
  errorStatus?: number | null;
  error?: string;
}

export interface PermissionDeniedNotice {
  toolName?: string;
  toolUseId?: string;
  message?: string;
}

export interface StreamState {
  sessionId?: string;
  model?: string;
  permissionMode?: string;
  /** Distinct top-level assistant messages so far (the CLI emits one event per content block). */
  turns: number;
  toolUses: number;
  lastTool?: string;
  lastAssistantText?: string;
  events: number;
  malformedLines: number;
  /** The last rate_limit_event whose status was "rejected" (subscription usage limit). */
  rateLimitRejected?: RateLimitNotice;
  lastApiError?: ApiErrorNotice;
  apiRetries: number;
  lastApiRetry?: ApiRetryNotice;
  permissionDenied: PermissionDeniedNotice[];
  /** Refusals by the shell sandbox seen in tool results (sandbox.ts: countSandboxRefusals). */
  sandboxRefusals: number;
  /** ids of the shell tool calls (Bash), whose results alone can carry sandbox refusals. */
  shellToolUseIds: Set<string>;
  modelFallbacks: number;
  /** The last `result` line (stream-json input can produce several). */
  result?: ResultSummary;
  messageIds: Set<string>;
}

export function createStreamState(): StreamState {
  return { turns: 0, toolUses: 0, events: 0, malformedLines: 0, apiRetries: 0, permissionDenied: [], sandboxRefusals: 0, shellToolUseIds: new Set(), modelFallbacks: 0, messageIds: new Set() };
}

/**
 * Applies one stdout line. Returns the event's type when the line was an event, or undefined for a blank or
 * malformed line.
 */
export function consumeLine(state: StreamState, line: string): string | undefined {
  if (line.trim() === '') return undefined;
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    state.malformedLines++;
    return undefined;
  }
  if (!isObject(event)) {
    state.malformedLines++;
    return undefined;
  }
  state.events++;
  const type = str(event, 'type') ?? 'unknown';
  applyEvent(state, type, event);
  return type;
}

function applyEvent(state: StreamState, type: string, event: JsonObject): void {
  switch (type) {
    case 'system':
      return applySystem(state, event);
    case 'assistant':
      return applyAssistant(state, event);
    case 'rate_limit_event':
      return applyRateLimit(state, event);
    case 'user':
      state.sandboxRefusals += sandboxRefusalsIn(state, event);
      return;
    case 'result':
      state.result = summarizeResult(event);
      state.sessionId = state.result.sessionId ?? state.sessionId;
      return;
    default:
      // stream_event and future types carry nothing the outcome depends on.
      return;
  }
}

function applySystem(state: StreamState, event: JsonObject): void {
  switch (str(event, 'subtype')) {
    case 'init':
      state.sessionId = str(event, 'session_id') ?? state.sessionId;
      state.model = str(event, 'model');
      state.permissionMode = str(event, 'permissionMode');
      return;
    case 'api_retry':
      state.apiRetries++;
      state.lastApiRetry = {
        attempt: num(event, 'attempt'),
        maxRetries: num(event, 'max_retries'),
        errorStatus: num(event, 'error_status') ?? null,
        error: str(event, 'error'),
      };
      return;
    case 'permission_denied':
      state.permissionDenied.push({
        toolName: str(event, 'tool_name'),
        toolUseId: str(event, 'tool_use_id'),
        message: str(event, 'message'),
      });
      return;
    case 'model_fallback':
      state.modelFallbacks++;
      return;
    default:
      return;
  }
}

function applyAssistant(state: StreamState, event: JsonObject): void {
  const message = obj(event, 'message');
  const id = str(message, 'id');
  // Subagent messages (parent_tool_use_id set) are not turns of this session.
  const topLevel = event.parent_tool_use_id === null || event.parent_tool_use_id === undefined;
  if (topLevel && id !== undefined && !state.messageIds.has(id)) {
    state.messageIds.add(id);
    state.turns++;
  }
  for (const block of arr(message, 'content')) {
    if (!isObject(block)) continue;
    if (block.type === 'tool_use') {
      state.toolUses++;
      state.lastTool = str(block, 'name') ?? state.lastTool;
      const toolUseId = str(block, 'id');
      if (toolUseId !== undefined && SHELL_TOOLS.has(str(block, 'name') ?? '')) state.shellToolUseIds.add(toolUseId);
    } else if (block.type === 'text') {
      state.lastAssistantText = str(block, 'text') ?? state.lastAssistantText;
    }
  }
  if (bool(event, 'is_api_error_message')) state.lastApiError = apiErrorNotice(event, message);
}

const SHELL_TOOLS = new Set(['Bash', 'PowerShell']);

/** Refusals in the results of shell tool calls (a file the Read tool shows may mention the same words). */
function sandboxRefusalsIn(state: StreamState, event: JsonObject): number {
  let count = 0;
  for (const block of arr(obj(event, 'message'), 'content')) {
    if (!isObject(block) || block.type !== 'tool_result') continue;
    if (!state.shellToolUseIds.has(str(block, 'tool_use_id') ?? '')) continue;
    count += countSandboxRefusals(toolResultText(block.content));
  }
  return count;
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isObject)
    .map((b) => str(b, 'text') ?? '')
    .join('\n');
}

function apiErrorNotice(event: JsonObject, message: JsonObject | undefined): ApiErrorNotice {
  const text = arr(message, 'content')
    .filter(isObject)
    .map((b) => str(b, 'text'))
    .filter((t): t is string => t !== undefined)
    .join('\n');
  const resetsAt = num(obj(obj(event, 'api_error_params'), 'rate_limit_info'), 'resetsAt');
  return {
    status: num(event, 'api_error_status'),
    error: str(event, 'error'),
    apiError: str(event, 'api_error'),
    text: text || undefined,
    resetsAt: resetsAt === undefined ? undefined : epochToMs(resetsAt),
  };
}

function applyRateLimit(state: StreamState, event: JsonObject): void {
  const info = obj(event, 'rate_limit_info');
  const status = str(info, 'status');
  if (status !== 'rejected') return;
  const resetsAt = num(info, 'resetsAt');
  state.rateLimitRejected = {
    status,
    resetsAt: resetsAt === undefined ? undefined : epochToMs(resetsAt),
    rateLimitType: str(info, 'rateLimitType'),
  };
}

function summarizeResult(event: JsonObject): ResultSummary {
  const status = event.api_error_status;
  return {
    subtype: str(event, 'subtype'),
    isError: bool(event, 'is_error') ?? false,
    terminalReason: str(event, 'terminal_reason'),
    apiErrorStatus: typeof status === 'number' ? status : status === null ? null : undefined,
    apiError: str(event, 'api_error'),
    numTurns: num(event, 'num_turns'),
    totalCostUsd: num(event, 'total_cost_usd'),
    usage: tokenUsage(obj(event, 'usage')),
    permissionDenials: arr(event, 'permission_denials').filter(isObject).map(permissionDenial),
    resultText: str(event, 'result'),
    errors: arr(event, 'errors').filter((e): e is string => typeof e === 'string'),
    hasStructuredOutput: Object.hasOwn(event, 'structured_output'),
    structuredOutput: event.structured_output,
    durationMs: num(event, 'duration_ms'),
    sessionId: str(event, 'session_id'),
  };
}

function tokenUsage(usage: JsonObject | undefined): TokenUsage | undefined {
  if (!usage) return undefined;
  return {
    inputTokens: num(usage, 'input_tokens') ?? 0,
    outputTokens: num(usage, 'output_tokens') ?? 0,
    cacheCreationInputTokens: num(usage, 'cache_creation_input_tokens') ?? 0,
    cacheReadInputTokens: num(usage, 'cache_read_input_tokens') ?? 0,
  };
}

function permissionDenial(d: JsonObject): PermissionDenial {
  return { toolName: str(d, 'tool_name') ?? 'unknown', toolUseId: str(d, 'tool_use_id'), toolInput: d.tool_input };
}

export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
}

/** The live-progress view of the state. Cost and tokens only exist once the result arrives (assistant usage is partial). */
export function progressOf(state: StreamState): AgentProgress {
  return {
    sessionId: state.sessionId,
    turns: state.result?.numTurns ?? state.turns,
    lastTool: state.lastTool,
    costUsd: state.result?.totalCostUsd,
    outputTokens: state.result?.usage?.outputTokens,
  };
}
