import { gitRaw } from '../git/client.js';
import { tasksMdOwnFile } from '../report/tasks-md-own-file.js';
import { advanceTarget, mergeInWorktree, mergeLockReason, type AdvanceOutcome } from '../git/merge.js';
import { branchSha, isAncestor } from '../git/repo.js';
import type { StageOutcome, SettleResult } from '../scheduler/types.js';
import type { StageRecord } from '../state/run-state.js';
import { branchFor, integrationBranchFor, type RunPaths } from './context.js';
import type { Config } from '../config/schema.js';
import type { RepoInfo } from '../git/repo.js';
import type { RunRecorder } from './recorder.js';
import { resolveConflict, type ConflictDeps } from './conflict.js';
import { crashPoint } from './crash-points.js';
import type { StageEvent } from '../state/run-events.js';
import { TaskJournal } from './journal.js';

/**
 * What settling a stage touches: the repository, its merge worktree and TASKS.md, the run state (through the
 * recorder), the stage's journal steps, and conflict resolution.
 */
export interface StageDeps extends ConflictDeps {
  repo: Pick<RepoInfo, 'root'>;
  config: Pick<Config, 'agent' | 'budget' | 'retry_attempts' | 'checks' | 'worktrees'>;
  paths: Pick<RunPaths, 'runLogDir' | 'mergeWorktree' | 'tasksMd'>;
  recorder: Pick<RunRecorder, 'notify' | 'state' | 'forTask' | 'record' | 'save' | 'preview'>;
}

/**
 * When a stage has settled: merge its done task branches into the target in milestone order, outside the user's
 * working tree, and make the result the next stage's base.
 */
export async function settleStage(ctx: StageDeps, outcome: StageOutcome): Promise<SettleResult> {
  const stage = ctx.recorder.state.stages.find((s) => s.stage === outcome.stage);
  if (!stage?.baseSha) return { ok: false, reason: `stage ${outcome.stage} has no base commit` };
  // A re-run of a stage (resume after a partial failure) builds on what was merged before.
  const start = stage.mergedSha ?? stage.baseSha;
  const done = outcome.tasks
    .filter((t) => t.status === 'done' && !ctx.recorder.state.tasks[t.id]?.merged)
    .map((t) => t.id)
    .sort();
  ctx.recorder.record({ type: 'stage-merging', stage: stage.stage });
  await ctx.recorder.save();

  const branches = done.map((id) => {
    const rec = ctx.recorder.state.tasks[id]!;
    // Derived, never read from the state file (which anyone can edit).
    return { branch: branchFor(ctx.config, id), message: `Merge milestone ${id}: ${rec.title}` };
  });
  // Journal steps of the stage, named by what they merge: a later settle of the same stage (a resume after a
  // partial failure) merges other branches and so is a step of its own.
  const journal = new TaskJournal(ctx.journal, `stage-${stage.stage}`);
  const what = done.join(',') || 'none';
  const merged = await journal.run<{ sha?: string }>(`merge-${what}`, { start }, async () => {
    crashPoint('stage merge started');
    const sha = (await alreadyMerged(ctx, start, branches.map((b) => b.branch))) ?? (await merge(ctx, stage, start, branches));
    return typeof sha === 'string' ? { value: { sha } } : { value: {}, failure: sha.reason ?? `stage ${stage.stage} could not be merged` };
  });
  if (merged.failure !== undefined || !merged.value.sha) return { ok: false, reason: merged.failure ?? `stage ${stage.stage} could not be merged` };
  const mergedSha = merged.value.sha;

  crashPoint('stage merged, target not moved yet');
  // Recorded (and so saved) only once the target has moved: a state file that calls the tasks merged while the
  // stage is not settled would keep a resume from settling it. TASKS.md on the target shows them merged already.
  const mergedEvent: StageEvent = { type: 'stage-merged', stage: stage.stage, mergedSha, merged: done };
  // Nothing of the recorder may write TASKS.md while the advance sets it aside: a save still scheduled (a conflict
  // resolution's agent events, 100 ms) would write a fresh TASKS.md without the user's text into that gap. Saved
  // now, nothing is pending, and nothing else records during the advance.
  await ctx.recorder.save();
  const advanced = (
    await journal.run<AdvanceOutcome>(`advance-${mergedSha}`, undefined, async () => ({
      value: await advanceTarget({
        repoRoot: ctx.repo.root,
        target: ctx.recorder.state.targetBranch,
        expectedOld: ctx.recorder.state.targetStartSha,
        newSha: mergedSha,
        integrationBranch: integrationBranchFor(ctx.config),
        ownFiles: [tasksMdOwnFile(ctx.paths.tasksMd, () => ctx.recorder.preview(mergedEvent), ctx.repo.root)],
      }),
    }))
  ).value;
  if (advanced.moved) {
    ctx.logger.info(done.length > 0 ? `stage ${stage.stage}: merged ${done.join(', ')} into ${ctx.recorder.state.targetBranch} (${mergedSha.slice(0, 7)})` : `stage ${stage.stage}: nothing to merge`);
  } else {
    ctx.logger.warn(
      `stage ${stage.stage}: merged result kept on ${advanced.integrationBranch}, not ${ctx.recorder.state.targetBranch}: ${advanced.reason}. ` +
        `Take it with: ${advanced.command}`,
    );
  }
  crashPoint('target moved, state not saved yet');
  ctx.recorder.record(mergedEvent);
  ctx.recorder.record({
    type: 'target-advanced',
    stage: stage.stage,
    sha: mergedSha,
    branch: advanced.moved ? ctx.recorder.state.targetBranch : advanced.integrationBranch,
    merged: done,
    ...(advanced.moved ? {} : { integrationBranch: advanced.integrationBranch }),
  });
  ctx.recorder.record({ type: 'stage-settled', stage: stage.stage, status: outcome.failures.length > 0 ? 'failed' : 'merged' });
  await ctx.recorder.save();
  return { ok: true };
}

/**
 * A resumed run may find this stage's merge already done (the crash came after the merge, before the state
 * was saved): the target (or integration branch) already holds every branch on top of the stage base.
 */
async function alreadyMerged(ctx: StageDeps, start: string, branches: string[]): Promise<string | undefined> {
  if (branches.length === 0) return undefined;
  for (const candidate of [ctx.recorder.state.integrationBranch, ctx.recorder.state.targetBranch]) {
    if (!candidate) continue;
    const head = await branchSha(ctx.repo.root, candidate);
    if (!head || head === start || !(await isAncestor(ctx.repo.root, start, head))) continue;
    const all = await Promise.all(branches.map((b) => isAncestor(ctx.repo.root, b, head)));
    if (all.every(Boolean)) return head;
  }
  return undefined;
}

async function merge(ctx: StageDeps, stage: StageRecord, start: string, branches: { branch: string; message: string }[]): Promise<string | SettleResult> {
  if (branches.length === 0) return start;
  const result = await mergeInWorktree({
    repoRoot: ctx.repo.root,
    mergeWorktreePath: ctx.paths.mergeWorktree,
    baseSha: start,
    branches,
    resolve: (conflict) => resolveConflict(ctx, stage.stage, conflict),
    lockReason: mergeLockReason(ctx.recorder.state.runId),
  });
  for (const branch of result.resolved) {
    const rec = Object.values(ctx.recorder.state.tasks).find((t) => t.branch === branch);
    if (rec) ctx.recorder.forTask(rec.id).record({ type: 'conflict-resolved' });
  }
  if (result.ok) return result.sha;
  // Ctrl-C stopped the conflict resolution: nothing to resolve by hand, --resume redoes the merge and continues it.
  if (ctx.signal.aborted) return { ok: false, reason: `its merge was interrupted (${result.conflict.detail}); orchestrate --resume redoes it` };
  ctx.recorder.record({ type: 'stage-merge-failed', stage: stage.stage, note: `merge conflict: ${result.conflict.detail}` });
  await gitRaw(ctx.repo.root, ['worktree', 'prune']).catch(() => undefined);
  await ctx.recorder.save();
  return {
    ok: false,
    reason:
      `${result.conflict.detail}. ${ctx.recorder.state.targetBranch} was left as it was. ` +
      `To resolve by hand, on ${ctx.recorder.state.targetBranch} run: git merge ${branches.map((b) => b.branch).join(' ')} ` +
      `(one at a time, resolving conflicts), then orchestrate --resume`,
  };
}
