import path from 'node:path';
import type { AgentRunRequest, AgentRunResult } from '../agents/types.js';
import type { Milestone } from '../milestones/types.js';
import type { TaskRecord } from '../state/run-state.js';
import { rel, type RunContext } from './context.js';
import { abortableSleep } from '../util/sleep.js';
import { limitKind } from './limits.js';
import { processStartTime } from './orphans.js';

export type AgentPurpose = 'agent' | 'review' | 'resolve';

/** What differs between calls; the rest (limits, env, transcript, accounting) is the same for every agent run. */
export type CallRequest = Omit<AgentRunRequest, 'cwd' | 'transcriptPath' | 'signal' | 'timeoutMs' | 'idleTimeoutMs' | 'env' | 'extraArgs'> & {
  cwd: string;
  purpose: AgentPurpose;
};

/**
 * Runs one agent process for a task and books it: a numbered transcript, the pid while it runs (for a
 * crash-resume), and its cost, tokens and turns added to the task's totals, whatever the purpose.
 */
export async function callAgent(ctx: RunContext, m: Milestone, rec: TaskRecord, signal: AbortSignal, call: CallRequest): Promise<AgentRunResult> {
  let request = call;
  let limitRetries = 0;
  let faultRetries = 0;
  for (;;) {
    const result = await callOnce(ctx, m, rec, signal, request);
    if (result.ok || signal.aborted) return result;
    if (limitKind(result)) {
      if (++limitRetries > ctx.config.retry_attempts) return result;
      if (!(await ctx.pauses.pauseFor(m.id, result, limitRetries, signal))) return result;
      request = continuation(call, request, result, `${doing(call, m)} when a usage or rate limit stopped you. It has reset: continue exactly where you stopped.`);
    } else if (isAgentFault(result)) {
      if (++faultRetries > Math.min(MAX_FAULT_RETRIES, ctx.config.retry_attempts)) return result;
      ctx.logger.warn(`[${m.id}] ${call.purpose} ${result.failure?.kind}: ${result.failure?.message ?? ''}; retrying (${faultRetries} of ${Math.min(MAX_FAULT_RETRIES, ctx.config.retry_attempts)})`);
      await abortableSleep(FAULT_BACKOFF_MS * faultRetries, signal).catch(() => undefined);
      if (signal.aborted) return result;
      request = continuation(call, request, result, `${doing(call, m)} when your run was cut off (${result.failure?.kind}). Continue exactly where you stopped.`);
    } else {
      return result;
    }
  }
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
      return `You were resolving a git merge conflict for milestone ${m.id}: ${m.title} (resolve every conflict and stage the files; do not commit)`;
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

async function callOnce(ctx: RunContext, m: Milestone, rec: TaskRecord, signal: AbortSignal, call: CallRequest): Promise<AgentRunResult> {
  const { purpose, ...request } = call;
  // A pause on a usage limit holds every new agent process, not only new tasks: reviews and fix rounds wait too.
  await ctx.pauses.waitUntilClear(signal);
  rec.attempts += 1;
  const transcript = path.join(ctx.paths.runLogDir, `${m.id}.${purpose}-${rec.attempts}.jsonl`);
  rec.transcripts.push(rel(ctx.repo.root, transcript));
  void ctx.persist();
  ctx.logger.info(`[${m.id}] ${purpose} ${request.resumeSessionId ? `resuming session ${request.resumeSessionId}` : 'started'} (attempt ${rec.attempts})`);
  const agent = ctx.config.agent;
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
      rec.agentPid = pid;
      const started = processStartTime(pid);
      if (started !== undefined) rec.agentStart = started;
      void ctx.persist();
    },
    onProgress: (p) => {
      call.onProgress?.(p);
      ctx.emit({ type: 'agent_progress', id: m.id, purpose, turns: p.turns, ...(p.lastTool ? { lastTool: p.lastTool } : {}), ...(p.costUsd !== undefined ? { costUsd: p.costUsd } : {}), ...(p.outputTokens !== undefined ? { outputTokens: p.outputTokens } : {}) });
      if (purpose === 'agent' && p.sessionId && p.sessionId !== rec.sessionId) {
        // Known as soon as the agent starts, so a crash from here on can resume this session.
        rec.sessionId = p.sessionId;
        void ctx.persist();
      }
    },
  });
  delete rec.agentPid;
  delete rec.agentStart;
  book(rec, result);
  ctx.emit({ type: 'task_cost', id: m.id, costUsd: rec.costUsd, usage: { ...rec.usage }, turns: rec.turns });
  if (purpose === 'agent' && result.sessionId) rec.sessionId = result.sessionId;
  ctx.logger.info(
    `[${m.id}] ${purpose} ${result.ok ? 'finished' : `failed (${result.failure?.kind})`}: ${result.numTurns} turns, $${result.costUsd.toFixed(4)}`,
  );
  return result;
}

function book(rec: TaskRecord, r: AgentRunResult): void {
  rec.turns += r.numTurns;
  rec.costUsd += r.costUsd;
  rec.usage.inputTokens += r.usage.inputTokens;
  rec.usage.outputTokens += r.usage.outputTokens;
  rec.usage.cacheReadInputTokens += r.usage.cacheReadInputTokens;
  rec.usage.cacheCreationInputTokens += r.usage.cacheCreationInputTokens;
}

/** The worker's settings for a milestone: front matter first, then the config. */
export function workerSettings(ctx: RunContext, m: Milestone): Pick<AgentRunRequest, 'model' | 'maxTurns' | 'maxBudgetUsd' | 'permissionMode' | 'allowedTools' | 'disallowedTools' | 'appendSystemPrompt'> {
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
