import type { KillReason } from '../../util/process.js';
import type { AgentFailureKind, PermissionDenial } from '../types.js';
import type { ResultSummary, StreamState } from './events.js';
import { detectUsageLimit, type UsageLimit } from './usage-limit.js';
import { localDateTime } from '../../report/local-time.js';

/**
 * Decides whether a finished Claude Code run succeeded, and if not, why — in words a user can act on. Pure.
 *
 * The CLI's own `subtype` says "success" on fatal API errors, so the verdict rests on `is_error`, `terminal_reason`,
 * `api_error_status`, the exit code, `permission_denials` (a denial still exits 0) and the presence of
 * `structured_output` (absent on success when the model never called the tool).
 */

export interface OutcomeInput {
  state: StreamState;
  exitCode: number | null;
  signal?: string;
  /** Set when the orchestrator killed the run. */
  killReason?: KillReason;
  /** False when no process was started (an already-aborted signal). Default true. */
  started?: boolean;
  stderr: string;
  spawnError?: { code?: string; message: string };
  expectStructuredOutput: boolean;
  resumeSessionId?: string;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  /** Signs of life besides output that the idle timeout watched (see util/idle.ts); none: output only. */
  idleWatched?: { cpu: boolean; worktree: boolean };
  killGraceMs: number;
  /** How the executable was named, for messages. */
  commandLabel: string;
  now: number;
  /** The agent's shell ran in Claude Code's sandbox: a permission denial then needs another hint. */
  sandboxed?: boolean;
}

export interface Failure {
  kind: AgentFailureKind;
  message: string;
}

export interface Outcome {
  ok: boolean;
  failure?: Failure;
  /** Epoch ms when a usage limit resets (usage_limit only, when known). */
  resetsAt?: number;
}

export function decideOutcome(input: OutcomeInput): Outcome {
  const { result } = input.state;
  const verdict =
    spawnFailure(input) ??
    killFailure(input) ??
    resumeFailure(input) ??
    (result ? resultFailure(input, result) : noResultFailure(input));
  if (!verdict) return { ok: true };
  return { ok: false, failure: { kind: verdict.kind, message: verdict.message }, resetsAt: verdict.resetsAt };
}

interface Verdict extends Failure {
  resetsAt?: number;
}

function spawnFailure(input: OutcomeInput): Verdict | undefined {
  const err = input.spawnError;
  if (!err) return undefined;
  if (err.code === 'E2BIG') {
    // The CLI exists; its arguments plus environment are over the kernel's limit (one argument: 128 KiB). The
    // prompt is on stdin, so this is the configuration's doing: retrying or reinstalling would not help.
    return {
      kind: 'cannot_start',
      message:
        `Could not start the agent CLI \`${input.commandLabel}\`: its command line and environment are too large for ` +
        'the system (E2BIG; Linux allows 128 KiB per argument). Shorten `agent.append_system_prompt`, ' +
        '`agent.extra_args`, `agent.env` or the environment the orchestrator runs in.',
    };
  }
  const why =
    err.code === 'ENOENT' ? 'it was not found' : err.code === 'EACCES' ? 'it is not executable' : err.message;
  return {
    kind: 'cannot_start',
    message:
      `Could not start the agent CLI \`${input.commandLabel}\`: ${why}. Install Claude Code with ` +
      '`npm i -g @anthropic-ai/claude-code`, or point `agent.command` in the config at a working executable.',
  };
}

function killFailure(input: OutcomeInput): Verdict | undefined {
  const reason = input.killReason;
  if (reason === undefined) return undefined;
  const stop = `stopped (SIGTERM to its process group, SIGKILL after ${formatDuration(input.killGraceMs)} if still running)`;
  switch (reason) {
    case 'timeout':
      return {
        kind: 'timeout',
        message:
          `The agent ran longer than its ${formatDuration(input.timeoutMs)} time limit and was ${stop}` +
          `${lastActivity(input.state)}. Raise the task's timeout or split the milestone into smaller ones.`,
      };
    case 'idle_timeout':
      return {
        kind: 'idle_timeout',
        message:
          `The agent ${idleSigns(input.idleWatched)} for ${formatDuration(input.idleTimeoutMs)} and was ${stop}${lastActivity(input.state)}. ` +
          (input.idleWatched?.cpu
            ? 'A hung API request or a tool command waiting on something that never comes causes this; raise the idle timeout ' +
              'if tools legitimately wait that long.'
            : 'A hung API request or a long silent tool command (tests, builds) causes this; raise the idle timeout ' +
              'if tools legitimately run that long.'),
      };
    case 'aborted':
      return {
        kind: 'aborted',
        message:
          input.started === false
            ? 'The run was cancelled by the orchestrator before the agent started.'
            : `The run was cancelled by the orchestrator and the agent was ${stop}.`,
      };
    default:
      return assertNever(reason);
  }
}

function lastActivity(state: StreamState): string {
  const tool = state.lastTool ? `, last tool used: ${state.lastTool}` : '';
  return ` after ${state.turns} turn${state.turns === 1 ? '' : 's'}${tool}`;
}

const NO_CONVERSATION = /No conversation found with session ID:?\s*(\S*)/;

function resumeFailure(input: OutcomeInput): Verdict | undefined {
  const m = NO_CONVERSATION.exec(input.stderr);
  if (!m) return undefined;
  const id = input.resumeSessionId ?? m[1] ?? 'unknown';
  return {
    kind: 'resume_failed',
    message:
      `Session ${id} cannot be resumed: Claude Code has no conversation with that id ("${m[0].trim()}"). ` +
      'Sessions are stored per user under ~/.claude/projects/, so a different HOME or user, or a deleted ' +
      'transcript, loses them. Start the task with a fresh session.',
  };
}

// ---- a result line arrived ---------------------------------------------------------------------------------------

function resultFailure(input: OutcomeInput, r: ResultSummary): Verdict | undefined {
  const failed = r.isError || (r.subtype !== undefined && r.subtype !== 'success') || input.exitCode !== 0;
  return failed ? errorResultFailure(input, r) : successChecks(input, r);
}

function errorResultFailure(input: OutcomeInput, r: ResultSummary): Verdict {
  const { state } = input;
  const usage = detectUsageLimit(state, input.now);
  if (usage) return usageLimitVerdict(usage);
  const detail = resultDetail(r, state);
  if (r.subtype === 'error_max_turns' || r.terminalReason === 'max_turns') {
    return {
      kind: 'max_turns',
      message: `The agent hit its turn limit (${detail}) before finishing. Raise max_turns for this task or split the milestone.`,
    };
  }
  if (r.subtype === 'error_max_budget_usd' || r.terminalReason === 'budget_exhausted') {
    return {
      kind: 'budget',
      message: `The agent hit its spending limit (${detail}; spent $${formatUsd(r.totalCostUsd)}). Raise max_budget_usd for this task if the work needs more.`,
    };
  }
  if (r.subtype === 'error_max_structured_output_retries' || r.terminalReason === 'structured_output_retry_exhausted') {
    return {
      kind: 'structured_output_missing',
      message: `The agent's structured output never matched the JSON schema (${detail}).`,
    };
  }
  return apiFailure(input, r, detail) ?? otherErrorResult(input, r, detail);
}

const AUTH_TEXT = /Not logged in|Invalid API key|Failed to authenticate|OAuth token has expired|Please run \/login/i;

function apiFailure(input: OutcomeInput, r: ResultSummary, detail: string): Verdict | undefined {
  const notice = input.state.lastApiError;
  const status = r.apiErrorStatus ?? notice?.status ?? undefined;
  if (status === 401 || status === 403 || notice?.error === 'authentication_failed' || AUTH_TEXT.test(detail)) {
    return {
      kind: 'auth',
      message:
        `Claude Code could not authenticate: ${detail}. Run \`claude\` and then \`/login\`, or set ANTHROPIC_API_KEY ` +
        '(or CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token`) in the environment the orchestrator runs in.',
    };
  }
  if (status === 429 || status === 529 || notice?.error === 'rate_limit' || notice?.error === 'overloaded') {
    const what = status === 529 || notice?.error === 'overloaded' ? 'overloaded' : 'rate limited';
    return {
      kind: 'rate_limited',
      message:
        `The API stayed ${what}${status ? ` (HTTP ${status})` : ''} after Claude Code's own retries` +
        `${retrySummary(input.state)}: ${detail}. Lower the number of parallel agents or retry later.`,
    };
  }
  if (r.terminalReason === 'api_error' || r.terminalReason === 'image_error' || status !== undefined || notice) {
    return { kind: 'api_error', message: `The API request failed${status ? ` (HTTP ${status})` : ''}: ${detail}.${apiHint(r, detail)}` };
  }
  return undefined;
}

function apiHint(r: ResultSummary, detail: string): string {
  if (/credit balance/i.test(detail)) return ' Add credits to the Anthropic account that owns the API key.';
  if (r.apiError === 'connection_failed' || /ECONNREFUSED|ENOTFOUND|Connection refused/i.test(detail)) {
    return ' Check network access to the API (proxy, firewall, ANTHROPIC_BASE_URL).';
  }
  if (/timed out/i.test(detail)) return ' The API did not answer in time; retry, or raise API_TIMEOUT_MS.';
  return '';
}

function otherErrorResult(input: OutcomeInput, r: ResultSummary, detail: string): Verdict {
  if (r.terminalReason?.startsWith('aborted')) {
    return {
      kind: 'crashed',
      message: `The agent was interrupted from outside the orchestrator (terminal_reason ${r.terminalReason}, usually a SIGINT): ${detail}.`,
    };
  }
  const exit = input.exitCode === null ? `signal ${input.signal ?? 'unknown'}` : `exit code ${input.exitCode}`;
  return {
    kind: 'crashed',
    message: `Claude Code reported a failure (${r.subtype ?? 'no subtype'}, ${exit}): ${detail}.${stderrHint(input.stderr)}`,
  };
}

function successChecks(input: OutcomeInput, r: ResultSummary): Verdict | undefined {
  const denials = mergeDenials(r.permissionDenials, input.state);
  if (denials.length > 0) return permissionVerdict(denials, input.state, input.sandboxed === true);
  if (input.expectStructuredOutput && !r.hasStructuredOutput) {
    const len = r.resultText?.length ?? 0;
    return {
      kind: 'structured_output_missing',
      message:
        'The agent finished without calling the StructuredOutput tool, so there is no structured_output. ' +
        `Its final text (${len} characters) is kept in resultText for a fallback parse.`,
    };
  }
  return undefined;
}

/** The result's list is authoritative; system/permission_denied events only fill in what it lacks. */
function mergeDenials(fromResult: PermissionDenial[], state: StreamState): PermissionDenial[] {
  const out = [...fromResult];
  const known = new Set(out.map((d) => d.toolUseId).filter(Boolean));
  for (const e of state.permissionDenied) {
    if (e.toolUseId && known.has(e.toolUseId)) continue;
    out.push({ toolName: e.toolName ?? 'unknown', toolUseId: e.toolUseId });
  }
  return out;
}

function permissionVerdict(denials: PermissionDenial[], state: StreamState, sandboxed: boolean): Verdict {
  const counts = new Map<string, number>();
  for (const d of denials) counts.set(d.toolName, (counts.get(d.toolName) ?? 0) + 1);
  const tools = [...counts].map(([name, n]) => (n > 1 ? `${name} (${n}×)` : name)).join(', ');
  const first = state.permissionDenied.find((e) => e.message)?.message;
  return {
    kind: 'permission_denied',
    message:
      `The agent was refused permission to use ${tools}${first ? ` ("${first}")` : ''}. ` +
      (sandboxed
        ? // acceptEdits is already the default and the sandbox allows shell commands: the old hint would mislead.
          'The sandbox is on, so every shell command is allowed (inside it): this is a refusal by Claude Code itself, ' +
          'e.g. a file tool (Write, Edit) aimed outside the worktree, or a tool your agent.disallowed_tools or front ' +
          'matter disallowed_tools deny. README: Troubleshooting, "A task failed with permission_denied".'
        : 'Allow the tools it needs with allowed_tools (for example "Edit", "Write", "Bash(git *)") or choose a ' +
          'permission mode such as acceptEdits.'),
  };
}

// ---- no result line ----------------------------------------------------------------------------------------------

const ROOT_BYPASS = /cannot be used with root\/sudo privileges/;

function noResultFailure(input: OutcomeInput): Verdict {
  const { state, exitCode, signal } = input;
  if (state.rateLimitRejected && exitCode !== 0) {
    const usage = detectUsageLimit(state, input.now);
    if (usage) return usageLimitVerdict(usage);
  }
  const seen = `${state.events} event${state.events === 1 ? '' : 's'}, ${state.malformedLines} malformed line${state.malformedLines === 1 ? '' : 's'}`;
  if (exitCode === 0 && !signal) {
    return {
      kind: 'bad_output',
      message:
        `Claude Code exited 0 without a result line (${seen}). Check that \`${input.commandLabel}\` is Claude Code ` +
        `and supports --output-format stream-json.${stderrHint(input.stderr)}`,
    };
  }
  if (ROOT_BYPASS.test(input.stderr)) {
    return {
      kind: 'crashed',
      message:
        'Claude Code refuses bypassPermissions as root unless IS_SANDBOX=1. Run the orchestrator as a non-root ' +
        'user, or set IS_SANDBOX=1 if this machine is a disposable sandbox.',
    };
  }
  const killed = signal ?? signalOfExitCode(exitCode);
  if (killed) {
    return {
      kind: 'crashed',
      message: `Claude Code was killed by ${killed} from outside the orchestrator before it reported a result (${seen}).${stderrHint(input.stderr)}`,
    };
  }
  return {
    kind: 'crashed',
    message: `Claude Code exited with code ${exitCode} before reporting a result (${seen}).${stderrHint(input.stderr)}`,
  };
}

/** A shell reports death by signal N as 128+N; Claude Code itself exits 143 on SIGTERM. */
function signalOfExitCode(code: number | null): string | undefined {
  switch (code) {
    case 130:
      return 'SIGINT';
    case 137:
      return 'SIGKILL';
    case 143:
      return 'SIGTERM';
    default:
      return undefined;
  }
}

// ---- shared ------------------------------------------------------------------------------------------------------

function usageLimitVerdict(u: UsageLimit): Verdict {
  const window = u.limitType ? ` (${u.limitType.replace(/_/g, '-')} window)` : '';
  const when = u.resetsAt !== undefined ? `it resets at ${localDateTime(u.resetsAt)}` : 'the reset time was not given';
  return {
    kind: 'usage_limit',
    resetsAt: u.resetsAt,
    message: `The Claude usage limit was reached${window}${u.text ? `: "${u.text}"` : ''}; ${when}. Resume after the reset, or use an API key.`,
  };
}

/** The most specific words the CLI gave: result text, then errors[], then the synthetic API error message. */
function resultDetail(r: ResultSummary, state: StreamState): string {
  const parts = [r.resultText, ...r.errors, state.lastApiError?.text].filter((t): t is string => !!t);
  const unique = [...new Set(parts)];
  return unique.length > 0 ? unique.join(' / ') : `subtype ${r.subtype ?? 'unknown'}, terminal_reason ${r.terminalReason ?? 'unknown'}`;
}

function retrySummary(state: StreamState): string {
  return state.apiRetries > 0 ? ` (${state.apiRetries} retr${state.apiRetries === 1 ? 'y' : 'ies'})` : '';
}

function stderrHint(stderr: string): string {
  const tail = stderr.trim().split('\n').slice(-3).join(' | ').slice(-500);
  return tail ? ` stderr: ${tail}` : '';
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return 'configured';
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
}

function formatUsd(v: number | undefined): string {
  return (v ?? 0).toFixed(2);
}

function assertNever(value: never): never {
  throw new Error(`unhandled case: ${String(value)}`);
}

/** What the agent did not do, for the idle-timeout message: the signs of life that were watched. */
function idleSigns(watched: OutcomeInput['idleWatched']): string {
  if (watched?.cpu && watched.worktree) return 'printed nothing, used no CPU and changed no file in its worktree';
  if (watched?.worktree) return 'printed nothing and changed no file in its worktree';
  if (watched?.cpu) return 'printed nothing and used no CPU';
  return 'printed nothing';
}
