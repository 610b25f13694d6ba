import { commitAll } from '../git/commit.js';
import { commitsBetween } from '../git/repo.js';
import { worktreeHead } from '../git/worktree.js';
import type { Milestone } from '../milestones/types.js';
import type { TaskPhase, TaskRecord } from '../state/run-state.js';
import type { TaskResult } from '../scheduler/types.js';
import type { RunContext } from './context.js';
import { crashPoint } from './crash-points.js';

/** What a task run ends as: exactly what the scheduler records. */
export type TaskOutcome = TaskResult;

export function setPhase(ctx: RunContext, rec: TaskRecord, phase: TaskPhase): void {
  rec.phase = phase;
  ctx.emit({ type: 'task_phase', id: rec.id, phase, ...(phase === 'review' || phase === 'checks' ? { round: (rec.rounds?.length ?? 0) } : {}) });
  ctx.logger.debug(`[${rec.id}] phase ${phase}`);
  void ctx.persist();
}

/** Commits what the agent left uncommitted, naming the milestone, and records the branch head. */
export async function commitLeftovers(ctx: RunContext, m: Milestone, rec: TaskRecord, worktree: string): Promise<void> {
  setPhase(ctx, rec, 'commit');
  crashPoint('before committing leftovers');
  const committed = await commitAll(worktree, `${m.id}: ${m.title}\n\nWork left uncommitted by the agent, committed by milestone-orchestrator.`);
  crashPoint('committed, head not recorded yet');
  rec.headSha = committed ?? (await worktreeHead(worktree));
  rec.commits = rec.headSha && rec.baseSha ? await commitsBetween(worktree, rec.baseSha, rec.headSha) : 0;
}

