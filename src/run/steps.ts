import { commitAll, type CommitResult } from '../git/commit.js';
import { branchProgress } from '../git/repo.js';
import { worktreeHead } from '../git/worktree.js';
import type { Milestone } from '../milestones/types.js';
import type { TaskPhase, TaskRecord } from '../state/run-state.js';
import type { TaskResult } from '../scheduler/types.js';
import type { RunContext } from './context.js';
import { crashPoint } from './crash-points.js';
import type { TaskJournal } from './journal.js';
import { hookFailureLogLine } from '../report/hook-failure.js';

/** What a task run ends as: exactly what the scheduler records. */
export type TaskOutcome = TaskResult;

export function setPhase(ctx: RunContext, rec: TaskRecord, phase: TaskPhase): void {
  rec.phase = phase;
  ctx.emit({ type: 'task_phase', id: rec.id, phase, ...(phase === 'review' || phase === 'checks' ? { round: (rec.rounds?.length ?? 0) } : {}) });
  ctx.logger.debug(`[${rec.id}] phase ${phase}`);
  void ctx.persist();
}

/** A commit hook that refused the agent's work: treated like a failed check (fed back, remediated). */
export type HookFailure = Extract<CommitResult, { kind: 'hook_failed' }>;

/**
 * The commit after the worker (`round` 0) or after remediation `round`, exactly once: a replay takes the recorded
 * head (and the hook's refusal, if one refused) instead of committing again.
 */
export async function commitStep(ctx: RunContext, m: Milestone, rec: TaskRecord, worktree: string, journal: TaskJournal, round: number): Promise<HookFailure | undefined> {
  const end = await journal.run<{ head?: string; commits: number; hook?: HookFailure }>(`commit-${round}`, undefined, async () => {
    const hook = await commitLeftovers(ctx, m, rec, worktree);
    const value = { ...(rec.headSha ? { head: rec.headSha } : {}), commits: rec.commits ?? 0, ...(hook ? { hook } : {}) };
    // A hook stopped by Ctrl-C did not refuse anything: a resumed run commits again.
    return ctx.signal.aborted && hook ? { value, failure: 'interrupted' } : { value };
  });
  if (end.value.head) rec.headSha = end.value.head;
  rec.commits = end.value.commits;
  return end.value.hook;
}

/**
 * Commits what the agent left uncommitted, naming the milestone, and records the branch head. The repository's
 * pre-commit and commit-msg hooks run unless git.hooks is false; a hook that refuses leaves the work uncommitted
 * and is returned for the quality gate to send back to the agent.
 */
export async function commitLeftovers(ctx: RunContext, m: Milestone, rec: TaskRecord, worktree: string): Promise<HookFailure | undefined> {
  setPhase(ctx, rec, 'commit');
  crashPoint('before committing leftovers');
  const committed = await commitAll(worktree, `${m.id}: ${m.title}\n\nWork left uncommitted by the agent, committed by milestone-orchestrator.`, {
    hooks: ctx.config.git.hooks,
    // A hook is the repository's own check: it gets a check's time limit and stops with the run.
    hookTimeoutMs: ctx.config.checks.timeout * 1000,
    signal: ctx.signal,
    ...(ctx.commandSandbox ? { sandbox: ctx.commandSandbox } : {}),
    ...(rec.baseSha ? { since: rec.baseSha } : {}),
  });
  crashPoint('committed, head not recorded yet');
  // One git process answers both (the commit's own, or branchProgress's), not rev-parse plus rev-list.
  const progress = committed.kind === 'committed' && committed.commits !== undefined ? { head: committed.sha, commits: committed.commits } : rec.baseSha ? await branchProgress(worktree, rec.baseSha) : undefined;
  rec.headSha = progress ? progress.head : committed.kind === 'committed' ? committed.sha : await worktreeHead(worktree);
  rec.commits = rec.headSha && progress ? progress.commits : 0;
  if (committed.kind !== 'hook_failed') return undefined;
  ctx.logger.warn(`[${m.id}] ${hookFailureLogLine(committed)}`);
  return committed;
}

