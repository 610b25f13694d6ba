export type {
  OnFailure,
  ScheduleResult,
  SchedulerEvent,
  SchedulerState,
  SettleResult,
  StageOutcome,
  StagePhase,
  StageRun,
  TaskResult,
  TaskResultStatus,
  TaskRun,
  TaskStatus,
} from './types.js';
export { initialState, step, type InitialStateOptions } from './state.js';
export { currentStage, isFailure, isSettled, nextToStart, stageOutcome } from './queries.js';
export { runSchedule, type RunScheduleOptions } from './run.js';
