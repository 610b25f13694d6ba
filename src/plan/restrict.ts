import type { MilestoneId } from '../milestones/types.js';
import { buildStage } from './stage-graph.js';
import type { Plan } from './types.js';

/**
 * The plan of just the `only` tasks, with critical paths and parallel groups recomputed: a selected task
 * whose same-stage dependency is not selected (so it is already done) can start with the stage. `deps` still
 * lists every direct dependency, for display. Stages with nothing selected are dropped.
 */
export function restrictPlan(plan: Plan, only: ReadonlySet<MilestoneId>): Plan {
  const stages = plan.stages
    .map((s) => buildStage(s.stage, s.tasks.filter((t) => only.has(t.id)).map(({ criticalPathMinutes: _, ...t }) => t)))
    .filter((s) => s.tasks.length > 0);
  return {
    stages,
    criticalPathMinutes: stages.reduce((a, s) => a + s.criticalPath.minutes, 0),
    totalWorkMinutes: stages.reduce((a, s) => a + s.tasks.reduce((b, t) => b + t.estimateMinutes, 0), 0),
  };
}
