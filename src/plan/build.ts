import type { Milestone, MilestoneId } from '../milestones/types.js';
import { buildStage, type TaskInput } from './stage-graph.js';
import type { Plan, PlanStage } from './types.js';

export interface BuildPlanOptions {
  /** Minutes assumed for a milestone without a readable estimate. Default 60. */
  defaultEstimateMinutes?: number;
}

export const DEFAULT_ESTIMATE_MINUTES = 60;

/**
 * Turns validated milestones into a plan: stages ascending, tasks in letter order. Pure.
 * Assumes validation already passed (dependencies exist, none on a later stage, no cycles); a cycle throws.
 */
export function buildPlan(milestones: readonly Milestone[], opts: BuildPlanOptions = {}): Plan {
  const fallback = opts.defaultEstimateMinutes ?? DEFAULT_ESTIMATE_MINUTES;
  const stages: PlanStage[] = groupByStage(milestones).map(([stage, members]) =>
    buildStage(
      stage,
      members.map((m) => toTaskInput(m, fallback)),
    ),
  );
  return {
    stages,
    criticalPathMinutes: sum(stages.map((s) => s.criticalPath.minutes)),
    totalWorkMinutes: sum(stages.flatMap((s) => s.tasks.map((t) => t.estimateMinutes))),
  };
}

/** Milestone order: stage, then letter. Ids are `<digit><letter>`, so plain string order is milestone order. */
export function compareIds(a: MilestoneId, b: MilestoneId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toTaskInput(m: Milestone, fallback: number): TaskInput {
  const deps = [...new Set(m.dependencies.map((d) => d.id))].sort(compareIds);
  const task: TaskInput = {
    id: m.id,
    stage: m.stage,
    title: m.title,
    deps,
    estimateMinutes: m.estimateMinutes ?? fallback,
  };
  if (m.estimateMinutes === null) task.estimateIsDefault = true;
  return task;
}

function groupByStage(milestones: readonly Milestone[]): [number, Milestone[]][] {
  const byStage = new Map<number, Milestone[]>();
  for (const m of milestones) {
    const members = byStage.get(m.stage) ?? [];
    members.push(m);
    byStage.set(m.stage, members);
  }
  return [...byStage.entries()]
    .sort(([a], [b]) => a - b)
    .map(([stage, members]) => [stage, [...members].sort((a, b) => compareIds(a.id, b.id))]);
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
