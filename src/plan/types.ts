import type { MilestoneId } from '../milestones/types.js';

export interface PlanTask {
  id: MilestoneId;
  stage: number;
  title: string;
  /** Direct dependencies, same stage or earlier stages, in milestone order. */
  deps: MilestoneId[];
  /** Estimated minutes used for ordering (the milestone's estimate, or the default when it has none). */
  estimateMinutes: number;
  /** True when the milestone had no readable estimate and `estimateMinutes` is the default. */
  estimateIsDefault?: boolean;
  /**
   * Longest estimated chain of work inside this task's stage that starts with this task (its own estimate plus
   * the heaviest chain of same-stage dependents). The scheduler starts the highest first.
   */
  criticalPathMinutes: number;
}

export interface PlanStage {
  stage: number;
  /** In milestone order (letter order). */
  tasks: PlanTask[];
  /** Tasks grouped by earliest start inside the stage: every task of a group can run in parallel. */
  parallelGroups: MilestoneId[][];
  /** Critical path of this stage: ids in order, and its minutes. */
  criticalPath: { ids: MilestoneId[]; minutes: number };
}

export interface Plan {
  /** Ascending stage number; only stages that have milestones. */
  stages: PlanStage[];
  /** Sum over stages of each stage's critical path: the estimated makespan with unlimited parallelism. */
  criticalPathMinutes: number;
  /** Sum of all estimates. */
  totalWorkMinutes: number;
}
