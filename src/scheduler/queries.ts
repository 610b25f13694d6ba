import type { MilestoneId } from '../milestones/types.js';
import type { SchedulerState, StageOutcome, StageRun, TaskRun, TaskStatus } from './types.js';

/** A settled task will not change again in this run. */
export function isSettled(status: TaskStatus): boolean {
  switch (status) {
    case 'done':
    case 'failed':
    case 'needs_attention':
    case 'skipped':
      return true;
    case 'pending':
    case 'blocked':
    case 'running':
      return false;
    default:
      return assertNever(status);
  }
}

export function isFailure(status: TaskStatus): boolean {
  return status === 'failed' || status === 'needs_attention';
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

/** The stage whose tasks may start; undefined while a stage settles or once the run is over. */
export function currentStage(state: SchedulerState): StageRun | undefined {
  return state.stages.find((s) => s.phase === 'running');
}

export function tasksOfStage(state: SchedulerState, stage: number): TaskRun[] {
  return state.tasks.filter((t) => t.stage === stage);
}

export function runningCount(state: SchedulerState): number {
  return state.tasks.filter((t) => t.status === 'running').length;
}

/**
 * Tasks to start now, best first: ready tasks of the current stage by highest `criticalPathMinutes`, ties in
 * milestone order, as many as `maxParallel` minus what already runs. Empty once a stop was requested.
 */
export function nextToStart(state: SchedulerState, maxParallel: number): MilestoneId[] {
  const stage = currentStage(state);
  if (state.finished || state.stopRequested !== undefined || !stage) return [];
  const free = maxParallel - runningCount(state);
  if (free <= 0) return [];
  // `pending` in the current stage means every dependency is done: the state keeps `blocked` up to date.
  const ready = tasksOfStage(state, stage.stage).filter((t) => t.status === 'pending');
  // Array.prototype.sort is stable, and tasks are in milestone order, which settles ties.
  ready.sort((a, b) => b.criticalPathMinutes - a.criticalPathMinutes);
  return ready.slice(0, free).map((t) => t.id);
}

export function stageOutcome(state: SchedulerState, stage: number): StageOutcome {
  const tasks = tasksOfStage(state, stage);
  return { stage, tasks, failures: tasks.filter((t) => isFailure(t.status)).map((t) => t.id) };
}
