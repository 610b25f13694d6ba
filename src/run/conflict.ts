import type { ConflictResolver } from '../git/merge.js';
import type { Milestone, MilestoneId } from '../milestones/types.js';
import { callAgent, workerSettings, type AgentCallDeps } from './agent-call.js';
import { runCommand } from './commands.js';
import { crashPoint } from './crash-points.js';
import { lastSession, TaskJournal, type StepLog } from './journal.js';
import { restoreTree, snapshotTree } from '../git/tree.js';
import { describeNestedRepositories } from '../git/nested.js';
import type { Templates } from './context.js';
import type { Config } from '../config/schema.js';
import type { CommandSandbox } from '../sandbox/plan.js';
import type { RunRecorder } from './recorder.js';
import { milestoneVars, renderTemplate } from './prompt.js';

type Conflict = Parameters<ConflictResolver>[0];

/**
 * What resolving a merge conflict touches: agent calls, the milestones and task records (which task a branch is),
 * the conflict template, the checks and the sandbox they run in, and the run's cancellation.
 */
export interface ConflictDeps extends AgentCallDeps {
  config: Pick<Config, 'agent' | 'budget' | 'retry_attempts' | 'checks'>;
  milestones: ReadonlyMap<MilestoneId, Milestone>;
  templates: Pick<Templates, 'conflict'>;
  recorder: Pick<RunRecorder, 'notify' | 'state' | 'forTask'>;
  commandSandbox?: CommandSandbox;
  signal: AbortSignal;
}

/**
 * A merge conflict goes to an agent in the merge worktree, with both sides' milestones as context. Its work only
 * counts when the checks of every milestone involved pass on the merged files; otherwise the merge is aborted.
 * A journal step of the incoming task (`resolve-<stage>`): a merge redone after a crash takes the recorded
 * resolution (its tree, from the step's `done` or, killed before that, from the agent call's `call_end`) instead of
 * asking again, and a resolution cut off before its agent ended continues the same agent session.
 */
export async function resolveConflict(ctx: ConflictDeps, stage: number, conflict: Conflict): Promise<boolean> {
  const incoming = milestoneOfBranch(ctx, conflict.branch);
  if (!incoming || !ctx.recorder.state.tasks[incoming.id]) return false;
  const task = ctx.recorder.forTask(incoming.id);
  const journal = new TaskJournal(ctx.journal, incoming.id);
  const key = `resolve-${stage}`;
  const mergedBefore = conflict.mergedSoFar.map((b) => milestoneOfBranch(ctx, b)).filter((m): m is Milestone => m !== undefined);
  const recorded = journal.step(key);
  if (recorded?.status === 'done') {
    const { tree } = recorded.output as { tree: string };
    ctx.logger.info(`[${incoming.id}] merge conflict in ${conflict.files.join(', ')}: taking the resolution recorded before the interruption`);
    await restoreTree(conflict.worktree, tree);
    return checksPass(ctx, [incoming, ...mergedBefore], conflict.worktree);
  }
  ctx.logger.warn(`[${incoming.id}] merge conflict in ${conflict.files.join(', ')}; asking an agent to resolve it`);
  task.record({ type: 'phase-changed', phase: 'merge' });
  // The resolution is recorded as soon as the agent is done (its tree), so a crash during the checks below does not
  // ask again; the checks run on every merge, replayed or not.
  const end = await journal.run<{ tree: string } | null>(key, undefined, async (prior) => {
    const prompt = renderTemplate(ctx.templates.conflict, {
      ...milestoneVars(incoming, conflict.branch),
      files: conflict.files.join(', '),
      merged: mergedBefore.map((m) => `${m.id} (${m.title})`).join(', ') || 'none (the stage base)',
      mergedBodies: mergedBefore.map((m) => `### ${m.id}: ${m.title}\n\n${m.body.trim()}`).join('\n\n') || '(none)',
    });
    // Cut off after the agent ended well: its resolution (the tree in its call_end) is taken, nothing is asked again.
    const finished = resolvedTree(prior);
    if (finished && (await restoreTree(conflict.worktree, finished).then(() => true, () => false))) {
      ctx.logger.info(`[${incoming.id}] merge conflict in ${conflict.files.join(', ')}: taking the resolution recorded before the interruption`);
      return { value: { tree: finished } };
    }
    // Cut off before: the merge was started over, so the files are conflicted again; the same session redoes it.
    const session = lastSession(prior);
    // The tree is taken before the call's end is journaled and stored in it, so no crash can lose a paid resolution.
    let tree: string | undefined;
    let nested: string | undefined;
    const result = await callAgent(ctx, incoming, task, ctx.signal, {
      purpose: 'resolve',
      step: key,
      cwd: conflict.worktree,
      prompt: session ? `You were interrupted, and the merge was started over: the files are conflicted again. Resolve them once more.\n\n${prompt}` : prompt,
      ...(session ? { resumeSessionId: session } : {}),
      ...workerSettings(ctx, incoming),
      beforeEnd: async () => {
        const snapshot = await snapshotTree(conflict.worktree).catch(() => undefined);
        if (snapshot?.kind === 'nested_repository') nested = describeNestedRepositories(snapshot.nested);
        tree = snapshot?.kind === 'tree' ? snapshot.tree : undefined;
        return tree ? { tree } : undefined;
      },
    });
    if (!result.ok) {
      ctx.logger.warn(`[${incoming.id}] conflict resolution failed: ${result.failure?.kind}: ${result.failure?.message}`);
      return { value: null, failure: `conflict resolution failed: ${result.failure?.kind}` };
    }
    crashPoint('resolve agent call recorded, step not done');
    if (nested) ctx.logger.warn(`[${incoming.id}] conflict resolution rejected: ${nested.replace(/\n/g, ' ')}`);
    return tree ? { value: { tree } } : { value: null, failure: nested ? `the resolution left a git repository in the merge worktree (${nested.split('\n').slice(1).join(' ')})` : 'the resolution left files unmerged' };
  });
  task.record({ type: 'phase-changed' });
  if (end.failure !== undefined) return false;
  crashPoint('conflict resolved, merge not committed');
  return checksPass(ctx, [incoming, ...mergedBefore], conflict.worktree);
}

/**
 * The tree (a git tree id) of an earlier try's resolution whose agent ended well and whose end recorded it, when the
 * step was cut off before it could record itself done; undefined otherwise (or for journals from before `output`).
 */
function resolvedTree(prior: StepLog | undefined): string | undefined {
  const end = prior?.calls.at(-1)?.end;
  const output = end?.ok ? (end.output as { tree?: unknown } | undefined) : undefined;
  return typeof output?.tree === 'string' ? output.tree : undefined;
}

function milestoneOfBranch(ctx: ConflictDeps, branch: string): Milestone | undefined {
  const rec = Object.values(ctx.recorder.state.tasks).find((t) => t.branch === branch);
  return rec ? ctx.milestones.get(rec.id) : undefined;
}

/** The checks of every milestone on both sides (each milestone's own, else the configured defaults), once each. */
async function checksPass(ctx: ConflictDeps, milestones: readonly Milestone[], cwd: string): Promise<boolean> {
  const commands = [...new Set(milestones.flatMap((m) => m.settings.checks ?? ctx.config.checks.commands))];
  for (const command of commands) {
    const r = await runCommand(command, { cwd, timeoutMs: ctx.config.checks.timeout * 1000, signal: ctx.signal, ...(ctx.commandSandbox ? { sandbox: ctx.commandSandbox } : {}) });
    if (!r.ok) {
      ctx.logger.warn(`conflict resolution rejected: check \`${command}\` failed on the merged result:\n${r.outputTail.trim()}`);
      return false;
    }
  }
  return true;
}
