import type { MilestoneId } from '../milestones/types.js';

/**
 * - `pending`: not started; in the current stage it is ready to start, in a later stage it waits for its stage.
 *   After a stop request every task that never started is `pending`, so a resume can start it.
 * - `blocked`: in the current stage, waiting on same-stage dependencies that are not done yet.
 * - `skipped`: will not run in this run: a dependency failed, needs attention or was skipped, or the run
 *   stopped because of a failure before the task's stage.
 */
export type TaskStatus = 'pending' | 'blocked' | 'running' | 'done' | 'failed' | 'needs_attention' | 'skipped';

/**
 * What a task attempt can end as. `interrupted`: cut off by a stop (Ctrl-C, a usage-limit stop) before it could
 * finish; it did not fail, so it goes back to `pending` for the resume (only while a stop is requested; otherwise it
 * counts as failed, so nothing restarts in a loop).
 */
export type TaskResultStatus = 'done' | 'failed' | 'needs_attention' | 'interrupted';

export interface TaskResult {
  status: TaskResultStatus;
  reason?: string;
}

export type OnFailure = 'stop' | 'continue';

export interface TaskRun {
  id: MilestoneId;
  stage: number;
  /** Direct dependencies (same and earlier stages). */
  deps: MilestoneId[];
  /** Priority: the highest starts first. */
  criticalPathMinutes: number;
  status: TaskStatus;
  reason?: string;
  /** Done before this run began (resume): reported, never started again. */
  carriedOver?: boolean;
}

/**
 * `waiting` → `running` (tasks start) → `settling` (every task settled; the driver calls `settleStage`) →
 * `settled`. A stage the run never reached stays `waiting`.
 */
export type StagePhase = 'waiting' | 'running' | 'settling' | 'settled';

export interface StageRun {
  stage: number;
  phase: StagePhase;
  /** The `settleStage` answer, once settled. */
  ok?: boolean;
  reason?: string;
}

/**
 * Plain data (JSON-serialisable) so the engine can persist it as is. Never mutated: `step` returns a new one.
 */
export interface SchedulerState {
  onFailure: OnFailure;
  /** Every task of the run in milestone order: the selected ones plus carried-over done ones. */
  tasks: TaskRun[];
  /** Stages with at least one selected task, ascending. Stages with only carried-over tasks are not run. */
  stages: StageRun[];
  /** Set by a stop request: nothing new starts. */
  stopRequested?: string;
  /** Nothing is running and nothing more will happen. */
  finished: boolean;
  /** Why the run ended before completing every stage: a stop request, a failed stage or a failed settle. */
  stoppedReason?: string;
}

export type SchedulerEvent =
  | { type: 'task-started'; id: MilestoneId }
  | { type: 'task-finished'; id: MilestoneId; status: TaskResultStatus; reason?: string }
  | { type: 'stage-settled'; stage: number; ok: boolean; reason?: string }
  | { type: 'stop-requested'; reason: string };

/** What `settleStage` is told: every task of the stage in this run, with final statuses. */
export interface StageOutcome {
  stage: number;
  tasks: TaskRun[];
  /** Ids that failed or need attention: if any, the stage stops the run unless `onFailure` is `continue`. */
  failures: MilestoneId[];
}

export interface SettleResult {
  ok: boolean;
  reason?: string;
}

export interface ScheduleResult {
  /** Final status of every task of the run, milestone order. */
  tasks: TaskRun[];
  stages: StageRun[];
  stoppedReason?: string;
  /** Every task of the run is done and every stage settled ok. */
  ok: boolean;
  /** The last state, as also passed to `onChange`. */
  state: SchedulerState;
}
