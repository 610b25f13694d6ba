import type { MilestoneId } from '../milestones/types.js';
import type { RunState, TaskRecord } from './run-state.js';

/**
 * After `orchestrate accept` made a task done: the tasks the run skipped because a dependency failed (scheduler
 * reason "dependency <id> …") are runnable again once no dependency of theirs, direct or indirect, is failed or needs
 * attention. They become `pending` without a reason (not run yet), so the summary, status and TASKS.md agree with
 * what --resume will do, instead of still saying "skipped: dependency 1A failed".
 *
 * `dependsOn`: each milestone's direct dependencies (from the milestone files). Changes `state.tasks` in place (the
 * state `accept` is about to save); returns the ids reopened, sorted.
 */
export function reopenDependents(state: RunState, dependsOn: ReadonlyMap<MilestoneId, readonly MilestoneId[]>): MilestoneId[] {
  const reopened: MilestoneId[] = [];
  for (const task of Object.values(state.tasks)) {
    if (task.status !== 'skipped' || !task.reason?.startsWith('dependency ')) continue;
    if (ancestors(task.id, dependsOn).some((id) => isBlocking(state.tasks[id]))) continue;
    task.status = 'pending';
    delete task.reason;
    reopened.push(task.id);
  }
  return reopened.sort();
}

function isBlocking(task: TaskRecord | undefined): boolean {
  return task?.status === 'failed' || task?.status === 'needs_attention';
}

/** Every direct and indirect dependency of `id` (a cycle is walked once). */
function ancestors(id: MilestoneId, dependsOn: ReadonlyMap<MilestoneId, readonly MilestoneId[]>): MilestoneId[] {
  const seen = new Set<MilestoneId>();
  const queue = [...(dependsOn.get(id) ?? [])];
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...(dependsOn.get(next) ?? []));
  }
  return [...seen];
}
