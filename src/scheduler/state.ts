import type { MilestoneId } from '../milestones/types.js';
import type { Plan } from '../plan/types.js';
import { assertNever, currentStage, isFailure, isSettled, tasksOfStage } from './queries.js';
import type { OnFailure, SchedulerEvent, SchedulerState, StageRun, TaskResultStatus, TaskRun, TaskStatus } from './types.js';

export interface InitialStateOptions {
  /** Tasks to run (from `selectTasks`). */
  selected: readonly MilestoneId[];
  /** Done in a previous run: never started again; a selected id that is also done counts as done. */
  done?: readonly MilestoneId[];
  /** Default `stop`. */
  onFailure?: OnFailure;
}

/**
 * The state before anything runs. Tasks neither selected nor done are not part of the run; `selectTasks`
 * guarantees nobody needs them, and if someone does anyway, that task is skipped rather than waiting forever.
 * Ids the plan does not know are a caller bug and throw.
 */
export function initialState(plan: Plan, opts: InitialStateOptions): SchedulerState {
  const planTasks = plan.stages.flatMap((s) => s.tasks);
  const known = new Set(planTasks.map((t) => t.id));
  const unknown = [...opts.selected, ...(opts.done ?? [])].filter((id) => !known.has(id));
  if (unknown.length > 0) throw new Error(`initialState: not in the plan: ${unknown.join(', ')}`);

  const done = new Set(opts.done ?? []);
  const selected = new Set(opts.selected.filter((id) => !done.has(id)));
  const tasks: TaskRun[] = planTasks
    .filter((t) => selected.has(t.id) || done.has(t.id))
    .map((t) => ({
      id: t.id,
      stage: t.stage,
      deps: [...t.deps],
      criticalPathMinutes: t.criticalPathMinutes,
      status: done.has(t.id) ? 'done' : 'pending',
      ...(done.has(t.id) ? { carriedOver: true } : {}),
    }));
  const stages: StageRun[] = plan.stages
    .filter((s) => s.tasks.some((t) => selected.has(t.id)))
    .map((s) => ({ stage: s.stage, phase: 'waiting' }));

  const draft: SchedulerState = { onFailure: opts.onFailure ?? 'stop', tasks, stages, finished: false };
  skipUnreachable(draft);
  startNextStage(draft);
  normalize(draft);
  return draft;
}

/**
 * Applies one event and returns the new state; the input is not modified. An event that cannot happen in
 * this state (finishing a task that is not running, settling a stage that is not settling) is a driver bug
 * and throws.
 */
export function step(state: SchedulerState, event: SchedulerEvent): SchedulerState {
  const draft = clone(state);
  switch (event.type) {
    case 'task-started':
      startTask(draft, event.id);
      break;
    case 'task-finished':
      finishTask(draft, event.id, event.status, event.reason);
      break;
    case 'stage-settled':
      settleStage(draft, event.stage, event.ok, event.reason);
      break;
    case 'stop-requested':
      if (!draft.finished && draft.stopRequested === undefined) draft.stopRequested = event.reason;
      break;
    default:
      assertNever(event);
  }
  normalize(draft);
  return draft;
}

function clone(state: SchedulerState): SchedulerState {
  return { ...state, tasks: state.tasks.map((t) => ({ ...t })), stages: state.stages.map((s) => ({ ...s })) };
}

function taskOf(draft: SchedulerState, id: MilestoneId): TaskRun {
  const task = draft.tasks.find((t) => t.id === id);
  if (!task) throw new Error(`scheduler: ${id} is not part of this run`);
  return task;
}

function startTask(draft: SchedulerState, id: MilestoneId): void {
  const task = taskOf(draft, id);
  const stage = currentStage(draft);
  if (task.status !== 'pending' || stage?.stage !== task.stage || draft.stopRequested !== undefined) {
    throw new Error(`scheduler: cannot start ${id} (${task.status}, stage ${stage?.stage ?? 'none'} running)`);
  }
  setStatus(task, 'running');
}

function finishTask(draft: SchedulerState, id: MilestoneId, result: TaskResultStatus, reason?: string): void {
  const task = taskOf(draft, id);
  if (task.status !== 'running') throw new Error(`scheduler: ${id} finished but was ${task.status}`);
  const status: TaskStatus = result !== 'interrupted' ? result : draft.stopRequested !== undefined ? 'pending' : 'failed';
  setStatus(task, status, reason);
  if (isFailure(status)) skipDependents(draft, id, status === 'failed' ? 'failed' : 'needs attention');
}

function settleStage(draft: SchedulerState, stage: number, ok: boolean, reason?: string): void {
  const run = draft.stages.find((s) => s.stage === stage);
  if (run?.phase !== 'settling') throw new Error(`scheduler: stage ${stage} settled but was ${run?.phase ?? 'unknown'}`);
  run.phase = 'settled';
  run.ok = ok;
  if (reason !== undefined) run.reason = reason;

  const failures = tasksOfStage(draft, stage).filter((t) => isFailure(t.status));
  const last = !draft.stages.some((s) => s.phase === 'waiting');
  if (!ok) stopAfterFailure(draft, `stage ${stage} could not be settled${reason ? `: ${reason}` : ''}`);
  else if (failures.length > 0 && draft.onFailure === 'stop') stopAfterFailure(draft, `stage ${stage} had failures: ${describe(failures)}`);
  // A stop that arrives while the last stage settles stopped nothing.
  else if (draft.stopRequested !== undefined && !last) endRun(draft, draft.stopRequested);
  else startNextStage(draft);
}

function describe(failures: readonly TaskRun[]): string {
  return failures.map((t) => `${t.id} ${t.status === 'failed' ? 'failed' : 'needs attention'}`).join(', ');
}

/** Later tasks will not run: skipped, with the reason, so the report can say why. */
function stopAfterFailure(draft: SchedulerState, why: string): void {
  for (const task of draft.tasks) {
    if (task.status === 'pending' || task.status === 'blocked') setStatus(task, 'skipped', `run stopped: ${why}`);
  }
  endRun(draft, why);
}

function endRun(draft: SchedulerState, stoppedReason?: string): void {
  draft.finished = true;
  if (stoppedReason !== undefined) draft.stoppedReason = stoppedReason;
}

function startNextStage(draft: SchedulerState): void {
  const next = draft.stages.find((s) => s.phase === 'waiting');
  if (next) next.phase = 'running';
  else endRun(draft);
}

/** A dependency outside the run (neither done nor selected) can never be satisfied: skip, don't wait. */
function skipUnreachable(draft: SchedulerState): void {
  const inRun = new Set(draft.tasks.map((t) => t.id));
  for (const task of draft.tasks) {
    const missing = task.deps.find((d) => !inRun.has(d));
    if (missing === undefined || task.status !== 'pending') continue;
    setStatus(task, 'skipped', `dependency ${missing} is neither done nor selected`);
    skipDependents(draft, task.id, 'was skipped');
  }
}

/** Skips everything that transitively depends on `root`, in any stage; the reason names the root cause. */
function skipDependents(draft: SchedulerState, root: MilestoneId, what: string): void {
  const queue = [root];
  for (let cur = queue.shift(); cur !== undefined; cur = queue.shift()) {
    for (const task of draft.tasks) {
      if (!task.deps.includes(cur) || (task.status !== 'pending' && task.status !== 'blocked')) continue;
      setStatus(task, 'skipped', `dependency ${root} ${what}${cur === root ? '' : ` (via ${cur})`}`);
      queue.push(task.id);
    }
  }
}

/**
 * Re-derives what follows from the facts after every event: `blocked` vs `pending` in the current stage,
 * a stage whose tasks have all settled moves to `settling`, and the run ends once a stop was requested and
 * nothing runs any more.
 */
function normalize(draft: SchedulerState): void {
  if (draft.finished) return;
  const stage = currentStage(draft);
  if (!stage) return; // a stage is settling: the driver's move
  const tasks = tasksOfStage(draft, stage.stage);
  const done = new Set(draft.tasks.filter((t) => t.status === 'done').map((t) => t.id));
  for (const task of tasks) {
    if (task.status !== 'pending' && task.status !== 'blocked') continue;
    // After a stop nothing waits any more: unstarted is simply `pending`, for the resume.
    const waiting = draft.stopRequested === undefined && task.deps.some((d) => !done.has(d));
    const status = waiting ? 'blocked' : 'pending';
    // Unchanged keeps its reason (a task a stop cut off says so until the resume starts it).
    if (task.status !== status) setStatus(task, status);
  }

  if (tasks.every((t) => isSettled(t.status))) stage.phase = 'settling';
  else if (tasks.some((t) => t.status === 'running')) return;
  else if (draft.stopRequested !== undefined) endRun(draft, draft.stopRequested);
  else if (!tasks.some((t) => t.status === 'pending')) skipCycle(draft, stage);
}

/** Nothing runs and nothing is ready: only a dependency cycle (unvalidated input) gets here. Don't hang. */
function skipCycle(draft: SchedulerState, stage: StageRun): void {
  const stuck = tasksOfStage(draft, stage.stage).filter((t) => t.status === 'blocked');
  for (const task of stuck) setStatus(task, 'skipped', 'waiting on a dependency cycle');
  for (const task of stuck) skipDependents(draft, task.id, 'was skipped');
  stage.phase = 'settling';
}

function setStatus(task: TaskRun, status: TaskStatus, reason?: string): void {
  task.status = status;
  if (reason === undefined) delete task.reason;
  else task.reason = reason;
}
