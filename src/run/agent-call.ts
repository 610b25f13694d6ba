import path from 'node:path';
import type { AgentAdapter, AgentRunRequest, AgentRunResult } from '../agents/types.js';
import { writeFileAtomic } from '../state/atomic.js';
import { handSettingsFile } from '../report/attention.js';
import type { Config } from '../config/schema.js';
import type { RepoInfo } from '../git/repo.js';
import type { Logger } from '../report/logger.js';
import type { JournalWriter } from '../state/journal.js';
import type { Milestone } from '../milestones/types.js';
import type { TaskFact } from '../state/run-events.js';
import type { RunRecorder, TaskJournalEntry, TaskRecorder } from './recorder.js';
import { rel, type RunPaths } from './context.js';
import type { Clock } from './clock.js';
import { limitKind, type PauseController } from './limits.js';
import { processStartTime } from './orphans.js';
import { crashPoint } from './crash-points.js';
import { TaskJournal, type CallLog } from './journal.js';

/** `review-2` → `review`: what kind of step a journal key names (crash points and logs group by it). */
export function stepKind(step: string): string {
  return step.replace(/-\d+$/, '');
}

export type AgentPurpose = 'agent' | 'review' | 'resolve';

/** What differs between calls; the rest (limits, env, transcript, accounting) is the same for every agent run. */
export type CallRequest = Omit<AgentRunRequest, 'cwd' | 'transcriptPath' | 'signal' | 'timeoutMs' | 'idleTimeoutMs' | 'env' | 'extraArgs'> & {
  cwd: string;
  purpose: AgentPurpose;
  /** The journal step this call belongs to (`worker`, `review-2`, …): its processes are recorded under it. */
  step: string;
  /**
   * The call an earlier run of this step was cut off in: when its transcript already holds a successful result,
   * that result is booked and returned and no agent runs.
   */
  continues?: CallLog;
  /**
   * Runs after the agent exited well and before its end is journaled; what it answers (JSON data, or undefined) is
   * recorded in that `call_end` line as `output`, so a step killed before its `done` finds it (a conflict resolution's
   * tree). A rejection records no output. Not run for a call recovered from its transcript.
   */
  beforeEnd?: (result: AgentRunResult) => Promise<unknown>;
};

/**
 * What running and booking an agent call touches: the adapter, the agent settings, where transcripts go, the
 * run-wide pause, the journal (to number calls), and the progress sink.
 */
export interface AgentCallDeps {
  adapter: AgentAdapter;
  config: Pick<Config, 'agent' | 'budget' | 'retry_attempts'>;
  repo: Pick<RepoInfo, 'root'>;
  paths: Pick<RunPaths, 'runLogDir'>;
  logger: Logger;
  pauses: Pick<PauseController, 'waitUntilClear' | 'pauseFor'>;
  journal: JournalWriter;
  recorder: Pick<RunRecorder, 'notify'>;
  /** Waits out the back-off before a faulted agent is retried; steps stamp their times with it. */
  clock: Clock;
}

/**
 * Runs one agent process for a task and books it: a numbered transcript, the pid while it runs (for a
 * crash-resume), and its cost, tokens and turns added to the task's totals, whatever the purpose.
 */
export async function callAgent(ctx: AgentCallDeps, m: Milestone, task: TaskRecorder, signal: AbortSignal, call: CallRequest): Promise<AgentRunResult> {
  const journal = new TaskJournal(ctx.journal, m.id);
  const recovered = call.continues ? await recover(ctx, m, task, journal, call, call.continues) : undefined;
  if (recovered) return recovered;
  let request = call;
  let limitRetries = 0;
  let faultRetries = 0;
  for (;;) {
    // The tool the agent called last in this process: after an idle stop, most likely the one that hung.
    let lastTool: string | undefined;
    const watched: CallRequest = {
      ...request,
      onProgress: (p) => {
        if (p.lastTool) lastTool = p.lastTool;
        request.onProgress?.(p);
      },
    };
    const result = await callOnce(ctx, m, task, signal, watched);
    if (result.ok || signal.aborted) return result;
    if (limitKind(result)) {
      if (++limitRetries > ctx.config.retry_attempts) return result;
      if (!(await ctx.pauses.pauseFor(m.id, result, limitRetries, signal))) return result;
      request = continuation(call, request, result, `${doing(call, m)} when a usage or rate limit stopped you. It has reset: continue exactly where you stopped.`);
    } else if (isAgentFault(result)) {
      if (++faultRetries > Math.min(MAX_FAULT_RETRIES, ctx.config.retry_attempts)) return result;
      ctx.logger.warn(`[${m.id}] ${call.purpose} ${result.failure?.kind}: ${result.failure?.message ?? ''}; retrying (${faultRetries} of ${Math.min(MAX_FAULT_RETRIES, ctx.config.retry_attempts)})`);
      await ctx.clock.sleep(FAULT_BACKOFF_MS * faultRetries, signal).catch(() => undefined);
      if (signal.aborted) return result;
      const why = result.failure?.kind === 'idle_timeout' ? idleStopped(lastTool, ctx.config.agent.idle_timeout) : `your run was cut off (${result.failure?.kind}). Continue exactly where you stopped.`;
      request = continuation(call, request, result, `${doing(call, m)} when ${why}`);
    } else {
      return result;
    }
  }
}

/**
 * The continuation after an idle-timeout stop (`idleSeconds`: agent.idle_timeout, s): told only to continue, an agent
 * runs the same hung command again, so name its last tool and ask it to run that differently.
 */
export function idleStopped(lastTool: string | undefined, idleSeconds: number): string {
  const quiet = `made no progress (no output, no CPU use, no file change in the worktree) for ${idleDuration(idleSeconds)}`;
  const what = lastTool ? `your last tool call (${lastTool}) ${quiet} and was stopped` : `your run ${quiet} and was stopped`;
  return (
    `${what}. Do not repeat ${lastTool ? 'that call' : 'what you were doing'} as it was: a command that waits for input, a server, ` +
    'a watcher or the network never finishes here. Run it differently (non-interactive flags, a time limit such as ' +
    '`timeout 120 <command>`, output to a file) or do without it, then continue where you stopped.'
  );
}

function idleDuration(seconds: number): string {
  if (seconds < 60) return `${Number(seconds.toFixed(3))}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return s ? `${m} min ${s}s` : `${m} min`;
}

/** Agent crashes, hangs and garbled output are retried a few times; they cost little and often pass. */
const MAX_FAULT_RETRIES = 2;
const FAULT_BACKOFF_MS = 2000;

function isAgentFault(result: AgentRunResult): boolean {
  const kind = result.failure?.kind;
  return kind === 'crashed' || kind === 'idle_timeout' || kind === 'timeout' || kind === 'bad_output';
}

/** What the cut-off session was doing, in the words its own prompt used, so the continuation keeps its purpose. */
function doing(call: CallRequest, m: Milestone): string {
  switch (call.purpose) {
    case 'agent':
      return `You were working on milestone ${m.id}: ${m.title}`;
    case 'review':
      return `You were reviewing the work done for milestone ${m.id}: ${m.title} (answer with your verdict when done)`;
    case 'resolve':
      return `You were resolving a git merge conflict for milestone ${m.id}: ${m.title} (resolve every conflict by editing the files; do not run git commands)`;
    default: {
      const never: never = call.purpose;
      return never;
    }
  }
}

/** Continue the same session where it was cut off; a run that never got a session is simply run again. */
function continuation(original: CallRequest, current: CallRequest, result: AgentRunResult, prompt: string): CallRequest {
  const session = result.sessionId ?? current.resumeSessionId;
  return session ? { ...original, resumeSessionId: session, prompt } : current;
}

/**
 * The agent of an interrupted call may have finished before the orchestrator died: its transcript then ends in the
 * result, which is booked (once, through the journal) and used instead of running anything. A call the journal
 * already records as finished well is not booked again: its result is read back from the transcript, or, where the
 * adapter cannot read transcripts, rebuilt from the journal (a review then has no verdict and is asked again).
 */
async function recover(ctx: AgentCallDeps, m: Milestone, task: TaskRecorder, journal: TaskJournal, call: CallRequest, cut: CallLog): Promise<AgentRunResult | undefined> {
  const expectStructuredOutput = call.jsonSchema !== undefined;
  const read = ctx.adapter.recover?.(path.resolve(ctx.repo.root, cut.transcript), { expectStructuredOutput });
  if (cut.end) {
    if (!cut.end.ok) return undefined;
    if (read) return read;
    if (expectStructuredOutput) return undefined;
    return { ok: true, ...(cut.sessionId ? { sessionId: cut.sessionId } : {}), exitCode: 0, numTurns: 0, costUsd: 0, usage: { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 }, durationMs: 0, isError: false, permissionDenials: [], malformedLines: 0 };
  }
  if (!read) return undefined;
  const result = read;
  ctx.logger.info(`[${m.id}] ${call.purpose} (attempt ${cut.n}) had finished before the interruption: its result is taken from ${cut.transcript}`);
  await task.journaled(callEnd(call.step, cut.n, result), booked(call.purpose, result));
  return result;
}

function callEnd(step: string, n: number, r: AgentRunResult, output?: unknown): TaskJournalEntry {
  return {
    t: 'call_end',
    step,
    n,
    ok: r.ok,
    ...(r.sessionId ? { sessionId: r.sessionId } : {}),
    costUsd: r.costUsd,
    usage: { ...r.usage },
    turns: r.numTurns,
    ...(r.failure ? { failure: `${r.failure.kind}: ${r.failure.message}` } : {}),
    ...(output !== undefined ? { output } : {}),
  };
}

async function callOnce(ctx: AgentCallDeps, m: Milestone, task: TaskRecorder, signal: AbortSignal, call: CallRequest): Promise<AgentRunResult> {
  const { purpose, step, continues: _continues, beforeEnd, ...request } = call;
  const journal = new TaskJournal(ctx.journal, m.id);
  // A pause on a usage limit holds every new agent process, not only new tasks: reviews and fix rounds wait too.
  await ctx.pauses.waitUntilClear(signal);
  // The journal knows every process ever started for the task, even ones the state file missed in a crash.
  const n = Math.max(task.current().attempts, journal.callCount()) + 1;
  const transcript = path.join(ctx.paths.runLogDir, `${m.id}.${purpose}-${n}.jsonl`);
  const transcriptRel = rel(ctx.repo.root, transcript);
  // Recorded before the process exists: a crash from here on finds this call cut off, never forgotten.
  await task.journaled({ t: 'call', step, n, transcript: transcriptRel, ...(request.resumeSessionId ? { resumeSessionId: request.resumeSessionId } : {}) }, { type: 'agent-call-started', attempt: n, transcript: transcriptRel });
  ctx.logger.info(`[${m.id}] ${purpose} ${request.resumeSessionId ? `resuming session ${request.resumeSessionId}` : 'started'} (attempt ${n})`);
  // The worker's session may be continued by hand (status, TASKS.md print how): its sandbox settings go beside its
  // transcripts, where attention.ts's continue command names them.
  const handSettings = purpose === 'agent' ? ctx.adapter.handSettings?.(request.cwd) : undefined;
  if (handSettings) await writeFileAtomic(handSettingsFile(ctx.paths.runLogDir, m.id), `${JSON.stringify(handSettings, null, 2)}\n`);
  const agent = ctx.config.agent;
  let sessionSeen: string | undefined;
  const timeoutSeconds = m.settings.timeout ?? agent.timeout;
  const result = await ctx.adapter.run({
    ...request,
    extraArgs: agent.extra_args,
    env: agent.env,
    timeoutMs: timeoutSeconds * 1000,
    idleTimeoutMs: agent.idle_timeout * 1000,
    transcriptPath: transcript,
    signal,
    onSpawn: (pid) => {
      const started = processStartTime(pid);
      task.record({ type: 'agent-spawned', pid, ...(started !== undefined ? { start: started } : {}) });
    },
    onProgress: (p) => {
      call.onProgress?.(p);
      ctx.recorder.notify({ type: 'agent_progress', id: m.id, purpose, turns: p.turns, ...(p.lastTool ? { lastTool: p.lastTool } : {}), ...(p.costUsd !== undefined ? { costUsd: p.costUsd } : {}), ...(p.outputTokens !== undefined ? { outputTokens: p.outputTokens } : {}) });
      if (p.sessionId && p.sessionId !== sessionSeen) {
        // Known as soon as the agent starts, so a crash from here on can continue this session.
        sessionSeen = p.sessionId;
        task.journaled({ t: 'session', step, sessionId: p.sessionId }, purpose === 'agent' ? { type: 'worker-session', sessionId: p.sessionId } : undefined).catch(() => undefined);
      }
    },
  });
  task.record({ type: 'agent-exited' });
  crashPoint(`${stepKind(step)} agent finished, result not recorded`);
  const output = result.ok && beforeEnd ? await beforeEnd(result).catch(() => undefined) : undefined;
  await task.journaled(callEnd(step, n, result, output), booked(purpose, result));
  ctx.logger.info(
    `[${m.id}] ${purpose} ${result.ok ? 'finished' : `failed (${result.failure?.kind})`}: ${result.numTurns} turn${result.numTurns === 1 ? '' : 's'}, $${result.costUsd.toFixed(4)}`,
  );
  return result;
}

/** A finished call's booking: its cost, tokens, turns and sandbox refusals; a worker's session is the task's. */
function booked(purpose: AgentPurpose, r: AgentRunResult): TaskFact {
  return {
    type: 'agent-call-finished',
    costUsd: r.costUsd,
    usage: { ...r.usage },
    turns: r.numTurns,
    durationMs: r.durationMs,
    ...(r.sandboxRefusals ? { sandboxRefusals: r.sandboxRefusals } : {}),
    ...(purpose === 'agent' && r.sessionId ? { workerSessionId: r.sessionId } : {}),
  };
}

/** The worker's settings for a milestone: front matter first, then the config. */
export function workerSettings(ctx: { config: Pick<Config, 'agent' | 'budget'> }, m: Milestone): Pick<AgentRunRequest, 'model' | 'maxTurns' | 'maxBudgetUsd' | 'permissionMode' | 'allowedTools' | 'disallowedTools' | 'appendSystemPrompt'> {
  const agent = ctx.config.agent;
  return {
    ...optional('model', m.settings.model ?? agent.model ?? undefined),
    ...optional('maxTurns', m.settings.max_turns ?? agent.max_turns ?? undefined),
    ...optional('maxBudgetUsd', m.settings.max_budget_usd ?? ctx.config.budget.max_usd_per_task ?? undefined),
    permissionMode: agent.permission_mode,
    allowedTools: [...agent.allowed_tools, ...(m.settings.allowed_tools ?? [])],
    disallowedTools: agent.disallowed_tools,
    ...optional('appendSystemPrompt', agent.append_system_prompt ?? undefined),
  };
}

export function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
