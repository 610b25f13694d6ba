import { commitAll, type CommitResult } from '../git/commit.js';
import { branchProgress } from '../git/repo.js';
import { worktreeHead } from '../git/worktree.js';
import type { Milestone } from '../milestones/types.js';
import type { TaskResult } from '../scheduler/types.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../report/logger.js';
import type { CommandSandbox } from '../sandbox/plan.js';
import { crashPoint } from './crash-points.js';
import type { TaskJournal } from './journal.js';
import { hookFailureLogLine } from '../report/hook-failure.js';
import { describeNestedRepositories } from '../git/nested.js';
import type { TaskRecorder } from './recorder.js';

/** What a task run ends as: exactly what the scheduler records. */
export type TaskOutcome = TaskResult;

/**
 * Why the commit of the agent's work was refused: a commit hook said no, or the worktree holds a git repository of
 * its own. Treated like a failed check (fed back, remediated; still there after the last round: needs attention).
 */
export type CommitRefusal = Extract<CommitResult, { kind: 'hook_failed' | 'nested_repository' }>;

/**
 * What committing an agent's leftovers touches: the git settings, the checks' time limit (a hook gets it), the
 * sandbox hooks run in, the log, and the run's cancellation.
 */
export interface CommitDeps {
  config: Pick<Config, 'git' | 'checks'>;
  commandSandbox?: CommandSandbox;
  logger: Logger;
  signal: AbortSignal;
}

/**
 * The commit after the worker (`round` 0) or after remediation `round`, exactly once: a replay takes the recorded
 * head (and the hook's refusal, if one refused) instead of committing again.
 */
export async function commitStep(ctx: CommitDeps, m: Milestone, task: TaskRecorder, worktree: string, journal: TaskJournal, round: number): Promise<CommitRefusal | undefined> {
  const end = await journal.run<{ head?: string; commits: number; hook?: CommitRefusal }>(`commit-${round}`, undefined, async () => {
    task.record({ type: 'phase-changed', phase: 'commit' });
    const done = await commitLeftovers(ctx, m, task.current().baseSha, worktree);
    const value = { ...(done.head ? { head: done.head } : {}), commits: done.commits, ...(done.hook ? { hook: done.hook } : {}) };
    // A hook stopped by Ctrl-C did not refuse anything: a resumed run commits again.
    return ctx.signal.aborted && done.hook ? { value, failure: 'interrupted' } : { value };
  });
  task.record({ type: 'committed', ...(end.value.head ? { headSha: end.value.head } : {}), commits: end.value.commits });
  return end.value.hook;
}

/**
 * Commits what the agent left uncommitted, naming the milestone; returns the branch head and its commits beyond
 * `baseSha`. The repository's
 * pre-commit and commit-msg hooks run unless git.hooks is false; a hook that refuses leaves the work uncommitted
 * and is returned for the quality gate to send back to the agent.
 */
export async function commitLeftovers(ctx: CommitDeps, m: Milestone, baseSha: string | undefined, worktree: string): Promise<{ head?: string; commits: number; hook?: CommitRefusal }> {
  crashPoint('before committing leftovers');
  const committed = await commitAll(worktree, `${m.id}: ${m.title}\n\nWork left uncommitted by the agent, committed by milestone-orchestrator.`, {
    hooks: ctx.config.git.hooks,
    // A hook is the repository's own check: it gets a check's time limit and stops with the run.
    hookTimeoutMs: ctx.config.checks.timeout * 1000,
    signal: ctx.signal,
    ...(ctx.commandSandbox ? { sandbox: ctx.commandSandbox } : {}),
    ...(baseSha ? { since: baseSha } : {}),
  });
  crashPoint('committed, head not recorded yet');
  // One git process answers both (the commit's own, or branchProgress's), not rev-parse plus rev-list.
  const progress = committed.kind === 'committed' && committed.commits !== undefined ? { head: committed.sha, commits: committed.commits } : baseSha ? await branchProgress(worktree, baseSha) : undefined;
  const head = progress ? progress.head : committed.kind === 'committed' ? committed.sha : await worktreeHead(worktree);
  const commits = head && progress ? progress.commits : 0;
  if (committed.kind !== 'hook_failed' && committed.kind !== 'nested_repository') return { ...(head ? { head } : {}), commits };
  ctx.logger.warn(`[${m.id}] ${committed.kind === 'hook_failed' ? hookFailureLogLine(committed) : describeNestedRepositories(committed.nested).replace(/\n/g, ' ')}`);
  return { ...(head ? { head } : {}), commits, hook: committed };
}

