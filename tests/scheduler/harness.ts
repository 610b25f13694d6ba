import type { MilestoneId } from '../../src/milestones/types.js';
import type { Plan } from '../../src/plan/types.js';
import { runSchedule, type RunScheduleOptions } from '../../src/scheduler/run.js';
import type {
  ScheduleResult,
  SchedulerState,
  SettleResult,
  StageOutcome,
  TaskResult,
  TaskResultStatus,
  TaskStatus,
} from '../../src/scheduler/types.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Lets every pending promise callback run: `setImmediate` fires only after the microtask queue is empty,
 * so the driver has done all it can before the test looks. Not a sleep: nothing waits on time.
 */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export type HarnessOptions = Partial<Omit<RunScheduleOptions, 'runTask' | 'settleStage'>> & {
  /** What `settleStage` answers per stage (default ok); an Error is thrown instead. */
  settle?: Record<number, SettleResult | Error>;
};

/** A run whose tasks finish only when the test says so. */
export interface Harness {
  result: Promise<ScheduleResult>;
  /** Ids whose runTask has been called and not yet finished, sorted. */
  running(): MilestoneId[];
  /** Ids in the order runTask was called. */
  started: MilestoneId[];
  maxConcurrent(): number;
  settled: { stage: number; outcome: StageOutcome }[];
  states: SchedulerState[];
  signals: Map<MilestoneId, AbortSignal>;
  /** Status of `id` in the latest state passed to onChange. */
  status(id: MilestoneId): TaskStatus | undefined;
  reason(id: MilestoneId): string | undefined;
  finish(id: MilestoneId, status?: TaskResultStatus, reason?: string): Promise<void>;
  crash(id: MilestoneId, error: unknown): Promise<void>;
}

export async function startHarness(plan: Plan, opts: HarnessOptions = {}): Promise<Harness> {
  const { settle = {}, ...rest } = opts;
  const pendingTasks = new Map<MilestoneId, Deferred<TaskResult>>();
  const live = new Set<MilestoneId>();
  const started: MilestoneId[] = [];
  const settled: Harness['settled'] = [];
  const states: SchedulerState[] = [];
  const signals = new Map<MilestoneId, AbortSignal>();
  let max = 0;

  const runTask = (id: MilestoneId, signal: AbortSignal): Promise<TaskResult> => {
    if (live.has(id) || pendingTasks.has(id)) throw new Error(`${id} started twice`);
    started.push(id);
    live.add(id);
    max = Math.max(max, live.size);
    signals.set(id, signal);
    const d = deferred<TaskResult>();
    pendingTasks.set(id, d);
    return d.promise.finally(() => live.delete(id));
  };
  const settleStage = async (stage: number, outcome: StageOutcome): Promise<SettleResult> => {
    settled.push({ stage, outcome });
    const answer = settle[stage];
    if (answer instanceof Error) throw answer;
    return answer ?? { ok: true };
  };

  const result = runSchedule(plan, {
    selected: plan.stages.flatMap((s) => s.tasks.map((t) => t.id)),
    maxParallel: 10,
    onFailure: 'stop',
    onChange: (s) => states.push(s),
    ...rest,
    runTask,
    settleStage,
  });
  result.catch(() => undefined); // a test that expects a rejection awaits it itself
  await flush();

  const deferredOf = (id: MilestoneId): Deferred<TaskResult> => {
    const d = pendingTasks.get(id);
    if (!d || !live.has(id)) throw new Error(`${id} is not running (running: ${[...live].join(', ')})`);
    return d;
  };
  const latest = (id: MilestoneId) => states.at(-1)?.tasks.find((t) => t.id === id);
  return {
    result,
    running: () => [...live].sort(),
    started,
    maxConcurrent: () => max,
    settled,
    states,
    signals,
    status: (id) => latest(id)?.status,
    reason: (id) => latest(id)?.reason,
    async finish(id, status = 'done', reason) {
      deferredOf(id).resolve(reason === undefined ? { status } : { status, reason });
      await flush();
    },
    async crash(id, error) {
      deferredOf(id).reject(error);
      await flush();
    },
  };
}
