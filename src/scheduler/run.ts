import type { MilestoneId } from '../milestones/types.js';
import type { Plan } from '../plan/types.js';
import { nextToStart, stageOutcome } from './queries.js';
import { initialState, step } from './state.js';
import type {
  OnFailure,
  ScheduleResult,
  SchedulerEvent,
  SchedulerState,
  SettleResult,
  StageOutcome,
  TaskResult,
} from './types.js';

export interface RunScheduleOptions {
  selected: readonly MilestoneId[];
  /** Done in a previous run: not run again, and they satisfy dependencies. */
  done?: readonly MilestoneId[];
  /** Most tasks running at once, across the whole run. A whole number >= 1. */
  maxParallel: number;
  onFailure: OnFailure;
  /**
   * Runs one task. Receives the run's stop signal: whether a stop aborts the attempt or lets it finish is the
   * runner's call; either way its result is recorded. Throwing counts as `failed` with the error's message.
   */
  runTask: (id: MilestoneId, signal: AbortSignal) => Promise<TaskResult>;
  /**
   * Called once per stage, after every task of it has settled (also when some failed, and also after a stop
   * request if the stage did complete). Not ok stops the run, whatever `onFailure` says; throwing counts as
   * not ok.
   */
  settleStage: (stage: number, outcome: StageOutcome) => Promise<SettleResult>;
  /**
   * A gate (resource check, pause) awaited before each start, before the slot is taken, one gate at a time:
   * a task waiting here does not count toward `maxParallel`. When it resolves the task starts if it is still
   * among the best to start (a task that finished meanwhile may have made a more urgent one ready: that one
   * is gated next) and no stop arrived. Throwing requests a stop with the error's message; the task stays
   * `pending`.
   */
  beforeStart?: (id: MilestoneId, signal: AbortSignal) => Promise<void>;
  /**
   * Called synchronously with the initial state and after every transition, so the engine can persist each
   * state before anything else happens. If it throws, the run stops (as if the signal fired).
   */
  onChange?: (state: SchedulerState) => void;
  /**
   * Stop: nothing new starts; running tasks are left to the runner (see `runTask`) and their results are
   * still recorded; a stage that thereby completes is still settled. Tasks that never started stay
   * `pending`, not `skipped`, so a resume can start them.
   */
  signal?: AbortSignal;
}

/**
 * Runs the selected tasks of `plan` stage by stage: inside a stage a task starts as soon as its same-stage
 * dependencies are done (no wave barrier), most urgent first. Resolves once nothing runs any more; never
 * rejects because of the runner or the settler, only on invalid options.
 */
export async function runSchedule(plan: Plan, opts: RunScheduleOptions): Promise<ScheduleResult> {
  if (!Number.isInteger(opts.maxParallel) || opts.maxParallel < 1) {
    throw new RangeError(`maxParallel must be a whole number >= 1, got ${opts.maxParallel}`);
  }
  const driver = new Driver(plan, opts);
  return driver.run();
}

class Driver {
  private state: SchedulerState;
  private readonly signal: AbortSignal;
  /** Resolves the main loop's wait when a running task finishes or a stop arrives. */
  private wake: (() => void) | undefined;
  private listenerFailed = false;
  /** A driver bug surfacing in a task's completion: rethrown by the loop instead of an unhandled rejection. */
  private fatal: unknown;

  constructor(
    plan: Plan,
    private readonly opts: RunScheduleOptions,
  ) {
    this.signal = opts.signal ?? new AbortController().signal;
    this.state = initialState(plan, { selected: opts.selected, done: opts.done ?? [], onFailure: opts.onFailure });
  }

  async run(): Promise<ScheduleResult> {
    this.notify();
    const onAbort = (): void => this.apply({ type: 'stop-requested', reason: abortReason(this.signal) });
    if (this.signal.aborted) onAbort();
    else this.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.loop();
    } finally {
      this.signal.removeEventListener('abort', onAbort);
    }
    return result(this.state);
  }

  private async loop(): Promise<void> {
    while (!this.state.finished) {
      if (this.fatal !== undefined) throw this.fatal;
      const settling = this.state.stages.find((s) => s.phase === 'settling');
      const next = nextToStart(this.state, this.opts.maxParallel)[0];
      if (settling) await this.settle(settling.stage);
      else if (next !== undefined) await this.start(next);
      else if (this.state.tasks.some((t) => t.status === 'running')) await new Promise<void>((r) => (this.wake = r));
      // The state settles or ends a stage that has nothing left to run, so this is a bug, not a situation.
      else throw new Error('scheduler: nothing runs, nothing can start, and the run is not finished');
    }
  }

  private async start(id: MilestoneId): Promise<void> {
    if (this.opts.beforeStart) {
      try {
        await this.opts.beforeStart(id, this.signal);
      } catch (err) {
        this.apply({ type: 'stop-requested', reason: `could not start ${id}: ${messageOf(err)}` });
        return;
      }
      // Only finishes and stops happen while gated (gates don't overlap), so the slot is still free.
      if (!nextToStart(this.state, this.opts.maxParallel).includes(id)) return;
    }
    this.apply({ type: 'task-started', id });
    this.execute(id).catch((err: unknown) => {
      this.fatal = err ?? new Error('unknown error');
      this.wake?.();
    });
  }

  private async execute(id: MilestoneId): Promise<void> {
    let outcome: TaskResult;
    try {
      outcome = await this.opts.runTask(id, this.signal);
    } catch (err) {
      outcome = { status: 'failed', reason: messageOf(err) };
    }
    this.apply({ type: 'task-finished', id, status: outcome.status, ...withReason(outcome.reason) });
  }

  private async settle(stage: number): Promise<void> {
    let answer: SettleResult;
    try {
      answer = await this.opts.settleStage(stage, stageOutcome(this.state, stage));
    } catch (err) {
      answer = { ok: false, reason: messageOf(err) };
    }
    this.apply({ type: 'stage-settled', stage, ok: answer.ok, ...withReason(answer.reason) });
  }

  private apply(event: SchedulerEvent): void {
    this.state = step(this.state, event);
    this.notify();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** A listener that cannot record state makes going on unsafe: stop, once, and keep its first error. */
  private notify(): void {
    try {
      this.opts.onChange?.(this.state);
    } catch (err) {
      if (this.listenerFailed) return;
      this.listenerFailed = true;
      this.apply({ type: 'stop-requested', reason: `onChange failed: ${messageOf(err)}` });
    }
  }
}

function result(state: SchedulerState): ScheduleResult {
  const ok =
    state.stoppedReason === undefined &&
    state.tasks.every((t) => t.status === 'done') &&
    state.stages.every((s) => s.phase === 'settled' && s.ok === true);
  return {
    tasks: state.tasks,
    stages: state.stages,
    ...(state.stoppedReason !== undefined ? { stoppedReason: state.stoppedReason } : {}),
    ok,
    state,
  };
}

function withReason(reason: string | undefined): { reason?: string } {
  return reason === undefined ? {} : { reason };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `controller.abort()` without a reason gives a generic AbortError; say something a user understands. */
function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === 'string' && reason !== '') return reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason.message;
  return 'stop requested';
}
