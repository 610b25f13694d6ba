import type { ConflictResolver } from '../git/merge.js';
import type { Milestone } from '../milestones/types.js';
import { callAgent, workerSettings } from './agent-call.js';
import { runCommand } from './commands.js';
import type { RunContext } from './context.js';
import { milestoneVars, renderTemplate } from './prompt.js';

type Conflict = Parameters<ConflictResolver>[0];

/**
 * A merge conflict goes to an agent in the merge worktree, with both sides' milestones as context. Its work only
 * counts when the checks of every milestone involved pass on the merged files; otherwise the merge is aborted.
 */
export async function resolveConflict(ctx: RunContext, conflict: Conflict): Promise<boolean> {
  const incoming = milestoneOfBranch(ctx, conflict.branch);
  const rec = incoming ? ctx.state.tasks[incoming.id] : undefined;
  if (!incoming || !rec) return false;
  const mergedBefore = conflict.mergedSoFar.map((b) => milestoneOfBranch(ctx, b)).filter((m): m is Milestone => m !== undefined);
  ctx.logger.warn(`[${incoming.id}] merge conflict in ${conflict.files.join(', ')}; asking an agent to resolve it`);
  rec.phase = 'merge';
  const prompt = renderTemplate(ctx.templates.conflict, {
    ...milestoneVars(incoming, conflict.branch),
    files: conflict.files.join(', '),
    merged: mergedBefore.map((m) => `${m.id} (${m.title})`).join(', ') || 'none (the stage base)',
    mergedBodies: mergedBefore.map((m) => `### ${m.id}: ${m.title}\n\n${m.body.trim()}`).join('\n\n') || '(none)',
  });
  const result = await callAgent(ctx, incoming, rec, ctx.signal, { purpose: 'resolve', cwd: conflict.worktree, prompt, ...workerSettings(ctx, incoming) });
  delete rec.phase;
  if (!result.ok) {
    ctx.logger.warn(`[${incoming.id}] conflict resolution failed: ${result.failure?.kind}: ${result.failure?.message}`);
    return false;
  }
  return checksPass(ctx, [incoming, ...mergedBefore], conflict.worktree);
}

function milestoneOfBranch(ctx: RunContext, branch: string): Milestone | undefined {
  const rec = Object.values(ctx.state.tasks).find((t) => t.branch === branch);
  return rec ? ctx.milestones.get(rec.id) : undefined;
}

/** The checks of every milestone on both sides (each milestone's own, else the configured defaults), once each. */
async function checksPass(ctx: RunContext, milestones: readonly Milestone[], cwd: string): Promise<boolean> {
  const commands = [...new Set(milestones.flatMap((m) => m.settings.checks ?? ctx.config.checks.commands))];
  for (const command of commands) {
    const r = await runCommand(command, { cwd, timeoutMs: ctx.config.checks.timeout * 1000, signal: ctx.signal });
    if (!r.ok) {
      ctx.logger.warn(`conflict resolution rejected: check \`${command}\` failed on the merged result:\n${r.outputTail.trim()}`);
      return false;
    }
  }
  return true;
}
