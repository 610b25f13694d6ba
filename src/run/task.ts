import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AgentRunResult } from '../agents/types.js';
import { gitQuery, gitRaw } from '../git/client.js';
import { commitAll, identityArgs } from '../git/commit.js';
import { commitsBetween } from '../git/repo.js';
import { prepareTaskWorktree, worktreeHead } from '../git/worktree.js';
import type { Milestone } from '../milestones/types.js';
import type { TaskPhase, TaskRecord } from '../state/run-state.js';
import { runCommand } from './commands.js';
import { branchFor, rel, type RunContext } from './context.js';
import { promptVars, renderTemplate } from './prompt.js';

export interface TaskOutcome {
  status: 'done' | 'failed' | 'needs_attention';
  reason?: string;
}

/** Names the milestone the same way the task prompt does, so logs and scripted test servers can tell runs apart. */
function resumePrompt(m: Milestone): string {
  return (
    `You were interrupted before finishing milestone ${m.id}: ${m.title}. Continue where you left off and ` +
    'complete it; check the work already in this worktree first.'
  );
}

/** Runs one milestone from worktree to committed branch. Never throws for the task's own failures. */
export async function runTask(ctx: RunContext, milestone: Milestone, signal: AbortSignal): Promise<TaskOutcome> {
  const rec = ctx.state.tasks[milestone.id];
  if (!rec) return { status: 'failed', reason: `no record for ${milestone.id}` };
  rec.startedAt ??= new Date().toISOString();
  const started = Date.now();
  try {
    return await runPhases(ctx, milestone, rec, signal);
  } finally {
    rec.durationMs += Date.now() - started;
    rec.finishedAt = new Date().toISOString();
    delete rec.phase;
  }
}

async function runPhases(ctx: RunContext, m: Milestone, rec: TaskRecord, signal: AbortSignal): Promise<TaskOutcome> {
  const worktree = path.join(ctx.paths.worktreeDir, m.id);
  const stage = ctx.state.stages.find((s) => s.stage === m.stage);
  const baseSha = rec.baseSha ?? stage?.baseSha;
  if (!baseSha) return { status: 'failed', reason: `stage ${m.stage} has no base commit` };

  setPhase(ctx, rec, 'setup');
  const prepared = await prepareTaskWorktree({
    repoRoot: ctx.repo.root,
    worktreePath: worktree,
    branch: rec.branch,
    baseSha,
    reuse: ctx.resuming,
  });
  if (prepared.kind === 'leftover') return { status: 'failed', reason: `${prepared.message}; fix: ${prepared.fix}` };
  rec.baseSha = baseSha;
  rec.worktree = rel(ctx.repo.root, worktree);
  if (prepared.kind === 'created') {
    const setupProblem = await setUpWorktree(ctx, m, worktree, signal);
    if (setupProblem) return { status: 'failed', reason: setupProblem };
  }
  if (signal.aborted) return { status: 'failed', reason: 'interrupted' };

  setPhase(ctx, rec, 'agent');
  const agentProblem = await runAgent(ctx, m, rec, worktree, signal);
  if (agentProblem) return { status: 'failed', reason: agentProblem };

  setPhase(ctx, rec, 'commit');
  await commitAll(worktree, `${m.id}: ${m.title}\n\nWork left uncommitted by the agent, committed by milestone-orchestrator.`);
  rec.headSha = await worktreeHead(worktree);
  rec.commits = rec.headSha ? await commitsBetween(worktree, baseSha, rec.headSha) : 0;
  if (rec.commits === 0 && ctx.config.git.require_changes) {
    return { status: 'failed', reason: 'the agent finished without changing anything (set git.require_changes: false to allow this)' };
  }
  return { status: 'done' };
}

function setPhase(ctx: RunContext, rec: TaskRecord, phase: TaskPhase): void {
  rec.phase = phase;
  ctx.logger.debug(`[${rec.id}] phase ${phase}`);
  void ctx.persist();
}

/** Brings in same-stage dependencies' work, copies configured files, runs set-up commands. */
async function setUpWorktree(ctx: RunContext, m: Milestone, worktree: string, signal: AbortSignal): Promise<string | undefined> {
  const sameStageDeps = m.dependencies.map((d) => d.id).filter((id) => ctx.milestones.get(id)?.stage === m.stage);
  const who = await identityArgs(worktree);
  for (const dep of sameStageDeps) {
    const branch = branchFor(ctx.config, dep);
    const merged = await gitQuery(worktree, [...who, 'merge', '--no-ff', '--no-edit', '-m', `Merge ${dep} into ${m.id} (same-stage dependency)`, branch]);
    if (merged === undefined) {
      await gitQuery(worktree, ['merge', '--abort']);
      return `could not bring in the work of its dependency ${dep} (merge conflict on ${branch})`;
    }
  }
  for (const file of ctx.config.worktrees.copy_files) {
    const from = path.resolve(ctx.repo.root, file);
    if (!existsSync(from)) {
      ctx.logger.warn(`[${m.id}] worktrees.copy_files: ${file} does not exist in the repository; skipped`);
      continue;
    }
    const to = path.join(worktree, file);
    await mkdir(path.dirname(to), { recursive: true });
    await copyFile(from, to);
  }
  const commands = m.settings.setup ?? ctx.config.worktrees.setup;
  for (const command of commands) {
    ctx.logger.info(`[${m.id}] set-up: ${command}`);
    const result = await runCommand(command, { cwd: worktree, timeoutMs: ctx.config.checks.timeout * 1000, signal });
    if (!result.ok) {
      const why = result.timedOut ? 'timed out' : `exited with ${result.exitCode}`;
      return `set-up command \`${command}\` ${why}:\n${result.outputTail.trim()}`;
    }
  }
  return undefined;
}

async function runAgent(ctx: RunContext, m: Milestone, rec: TaskRecord, worktree: string, signal: AbortSignal): Promise<string | undefined> {
  const interruptedSession = ctx.resuming && rec.sessionId && rec.attempts > 0 ? rec.sessionId : undefined;
  let result = await invokeAgent(ctx, m, rec, worktree, signal, interruptedSession);
  if (!result.ok && result.failure?.kind === 'resume_failed') {
    ctx.logger.warn(`[${m.id}] session ${interruptedSession} could not be resumed; starting over in a clean worktree`);
    await restartClean(ctx, rec, worktree);
    result = await invokeAgent(ctx, m, rec, worktree, signal, undefined);
  }
  if (result.ok) return undefined;
  const failure = result.failure ?? { kind: 'crashed', message: 'the agent failed' };
  return `${failure.kind}: ${failure.message}`;
}

async function invokeAgent(ctx: RunContext, m: Milestone, rec: TaskRecord, worktree: string, signal: AbortSignal, resumeSessionId: string | undefined): Promise<AgentRunResult> {
  const agent = ctx.config.agent;
  rec.attempts += 1;
  const transcript = path.join(ctx.paths.runLogDir, `${m.id}.agent-${rec.attempts}.jsonl`);
  rec.transcripts.push(rel(ctx.repo.root, transcript));
  void ctx.persist();
  const prompt = resumeSessionId ? resumePrompt(m) : renderTemplate(ctx.taskTemplate, promptVars(m, rec.branch));
  ctx.logger.info(`[${m.id}] agent ${resumeSessionId ? `resuming session ${resumeSessionId}` : 'started'} (attempt ${rec.attempts})`);
  const timeoutSeconds = m.settings.timeout ?? agent.timeout;
  const result = await ctx.adapter.run({
    cwd: worktree,
    prompt,
    ...(resumeSessionId ? { resumeSessionId } : {}),
    ...optional('model', m.settings.model ?? agent.model ?? undefined),
    ...optional('maxTurns', m.settings.max_turns ?? agent.max_turns ?? undefined),
    ...optional('maxBudgetUsd', m.settings.max_budget_usd ?? ctx.config.budget.max_usd_per_task ?? undefined),
    permissionMode: agent.permission_mode,
    allowedTools: [...agent.allowed_tools, ...(m.settings.allowed_tools ?? [])],
    disallowedTools: agent.disallowed_tools,
    ...optional('appendSystemPrompt', agent.append_system_prompt ?? undefined),
    extraArgs: agent.extra_args,
    env: agent.env,
    timeoutMs: timeoutSeconds * 1000,
    idleTimeoutMs: agent.idle_timeout * 1000,
    transcriptPath: transcript,
    signal,
    onSpawn: (pid) => {
      rec.agentPid = pid;
      void ctx.persist();
    },
    onProgress: (p) => {
      if (p.sessionId && p.sessionId !== rec.sessionId) {
        // Known as soon as the agent starts, so a crash from here on can resume this session.
        rec.sessionId = p.sessionId;
        void ctx.persist();
      }
    },
  });
  delete rec.agentPid;
  recordUsage(rec, result);
  ctx.logger.info(
    `[${m.id}] agent ${result.ok ? 'finished' : `failed (${result.failure?.kind})`}: ${result.numTurns} turns, $${result.costUsd.toFixed(4)}`,
  );
  return result;
}

function recordUsage(rec: TaskRecord, r: AgentRunResult): void {
  if (r.sessionId) rec.sessionId = r.sessionId;
  rec.turns += r.numTurns;
  rec.costUsd += r.costUsd;
  rec.usage.inputTokens += r.usage.inputTokens;
  rec.usage.outputTokens += r.usage.outputTokens;
  rec.usage.cacheReadInputTokens += r.usage.cacheReadInputTokens;
  rec.usage.cacheCreationInputTokens += r.usage.cacheCreationInputTokens;
}

/**
 * Starting over must not destroy commits: the old head is kept under refs/orchestrator/backup/ before the
 * branch is reset to its base.
 */
async function restartClean(ctx: RunContext, rec: TaskRecord, worktree: string): Promise<void> {
  const head = await worktreeHead(worktree);
  if (head && rec.baseSha && head !== rec.baseSha) {
    await gitRaw(worktree, ['update-ref', `refs/orchestrator/backup/${rec.id}-${Date.now()}`, head]);
  }
  await gitRaw(worktree, ['reset', '-q', '--hard', rec.baseSha ?? 'HEAD']);
  await gitRaw(worktree, ['clean', '-fdq']);
  delete rec.sessionId;
  ctx.logger.info(`[${rec.id}] worktree reset to ${rec.baseSha?.slice(0, 7)}`);
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
