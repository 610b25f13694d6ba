import { redactStrings } from '../agents/redact.js';
import type { RunEvent } from '../run/events.js';
import { runTotals, type RunState } from '../state/run-state.js';
import { safeJson } from './terminal-safe.js';

/**
 * `orchestrate --json`: the run's events on stdout as NDJSON, one JSON object per line, in the order the engine
 * emitted them.
 *
 * ## Streams
 * - **stdout**: only event lines. Nothing else, ever: no banner, no summary, no colour.
 * - **stderr**: what a person would read: the log lines (info, warn, error; `HH:MM:SS message`) and, at the end, the
 *   human summary. Validation errors, a refused or locked run and "nothing to run" also go to stderr (exit codes as
 *   without `--json`); a run that never starts prints no event at all.
 * - The log file (`logs/orchestrator_*.log`) is written as always.
 *
 * A run that starts (`run_started`) always ends with exactly one `run_finished`, the last line: nothing is written
 * after it (only an internal error, exit 70, can end the stream without one). `log` events may come before `run_started` (the run's first log line, a stale lock taken over). Secrets
 * (the values of ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN and every other `*_KEY`/`*_TOKEN`/`*_SECRET`-like
 * variable, anything shaped like an Anthropic key) are replaced (`[redacted]`, `[REDACTED:<NAME>]`) in every string.
 *
 * ## Schema
 * Every line is an object with `type` (string) and `at` (ISO 8601 time, UTC). Fields are only ever added, never
 * renamed or removed; consumers must ignore unknown fields and unknown types. `id` is a milestone id (`1A`).
 * `usage` is `{ inputTokens, outputTokens, cacheReadInputTokens, cacheCreationInputTokens }` (integers). Costs
 * are US dollars. Optional fields (`?`) are absent, never null, when unknown.
 *
 * | type | fields | when |
 * |---|---|---|
 * | `run_started` | `runId`, `resumed` (bool), `tasks` (ids this run executes), `maxParallel`, `targetBranch` | the run holds the lock and starts |
 * | `task_started` | `id`, `stage`, `title` | a task leaves the queue (after the resource gate) |
 * | `task_phase` | `id`, `phase` (`setup` `agent` `commit` `checks` `review` `merge`), `round?` (quality-gate round, 1-based, with `checks` and `review`) | a task moves to another step |
 * | `agent_progress` | `id`, `purpose` (`agent` `review` `resolve`), `turns`, `lastTool?`, `costUsd?`, `outputTokens?` (running figures of the agent call in flight) | the agent's stream reports progress |
 * | `task_cost` | `id`, `costUsd`, `usage`, `turns` (the task's totals so far) | an agent call of the task ended |
 * | `task_finished` | `id`, `status` (`done` `failed` `needs_attention` `skipped`), `reason?`, `costUsd`, `usage`, `turns`, `durationMs`, `attention?` (failed and needs_attention only: `{ worktree, branch, sessionId, transcript, continueCommand, rounds: [{ round, verdict, summary, findings: [{ severity, file?, line?, message }], failedChecks: [{ command, exitCode, timedOut, outputTail }] }] }`, see `src/report/attention.ts`) | a task settles; skipped tasks get this without a `task_started` |
 * | `stage_merged` | `stage`, `sha`, `branch` (where the merged result is), `merged` (ids) | a stage's approved branches are merged |
 * | `resource_wait` | `id`, `reasons` (strings) | the resource gate holds a task (repeated while it waits) |
 * | `paused` | `until` (ISO time), `reason` | a usage or rate limit pauses the run |
 * | `resumed` | — | the pause is over |
 * | `log` | `level` (`info` `warn` `error`), `message` | a log line (the same lines as on stderr, without the time prefix) |
 * | `run_finished` | `runId`, `status` (`completed` `failed` `stopped` `interrupted` `paused`), `costUsd`, `usage`, `message?` | last line; the state file holds the same figures |
 *
 * The task statuses and costs in `task_finished` and `run_finished` are those of `.orchestrator/run-state.json` and
 * `orchestrate status --json` at the end of the run.
 */
export class NdjsonWriter {
  private finished = false;
  private started = false;

  constructor(
    private readonly write: (line: string) => void,
    private readonly redact: (text: string) => string = (t) => t,
  ) {}

  event(event: RunEvent): void {
    if (this.finished) return;
    if (event.type === 'run_started') this.started = true;
    if (event.type === 'run_finished') this.finished = true;
    this.write(`${safeJson(redactStrings(event, this.redact))}\n`);
  }

  /** A log line as a `log` event (the CLI turns the logger's lines into events; the engine does not emit them). */
  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.event({ type: 'log', at: new Date().toISOString(), level, message });
  }

  /** True once `run_finished` was written. */
  get done(): boolean {
    return this.finished;
  }

  /** True once `run_started` was written. */
  get begun(): boolean {
    return this.started;
  }
}

/** The `run_finished` event for a final state, for when the engine ended a run without emitting one. */
export function runFinishedFrom(state: RunState): Extract<RunEvent, { type: 'run_finished' }> {
  const totals = runTotals(state);
  return {
    type: 'run_finished',
    at: state.finishedAt ?? new Date().toISOString(),
    runId: state.runId,
    status: state.status,
    costUsd: totals.costUsd,
    usage: totals.usage,
    ...(state.message ? { message: state.message } : {}),
  };
}

/** Moved to agents/redact.ts (every JSON writer uses it); re-exported for existing importers. */
export { redactStrings };
