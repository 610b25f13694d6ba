import type { Plan, PlanStage } from '../../src/plan/types.js';
import { runSchedule } from '../../src/scheduler/index.js';
import { max, sum } from './stats.js';

/**
 * A virtual clock for promise-only code: timers fire in time order, and time only moves once every promise
 * reaction has run (a `setImmediate` turn drains the microtask queue), so nothing real-time leaks into the result.
 */
export class VirtualClock {
  now = 0;
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  private seq = 0;

  sleep(ms: number): Promise<void> {
    return new Promise((fire) => this.timers.push({ at: this.now + ms, seq: this.seq++, fire }));
  }

  async runUntil(done: Promise<unknown>): Promise<void> {
    let finished = false;
    void done.then(
      () => (finished = true),
      () => (finished = true),
    );
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (finished) return;
      if (this.timers.length === 0) throw new Error('virtual clock: nothing scheduled and the run is not finished');
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const at = this.timers[0]!.at;
      this.now = at;
      const due = this.timers.filter((t) => t.at === at);
      this.timers = this.timers.filter((t) => t.at !== at);
      for (const t of due) t.fire();
    }
  }
}

/**
 * The product's own driver (`runSchedule`, pure core included) with a runner that takes each task's real duration
 * on a virtual clock, and stage settles that take no time. Returns the makespan in the durations' unit.
 */
export async function simulateScheduler(plan: Plan, durations: ReadonlyMap<string, number>, maxParallel: number): Promise<number> {
  const clock = new VirtualClock();
  const selected = plan.stages.flatMap((s) => s.tasks.map((t) => t.id));
  const run = runSchedule(plan, {
    selected,
    maxParallel,
    onFailure: 'stop',
    runTask: async (id) => {
      await clock.sleep(durations.get(id) ?? 0);
      return { status: 'done' };
    },
    settleStage: async () => ({ ok: true }),
  });
  await clock.runUntil(run);
  const result = await run;
  if (!result.ok) throw new Error(`simulated run did not complete: ${result.stoppedReason ?? 'unknown'}`);
  return clock.now;
}

/**
 * Wave-barrier scheduling of one stage: the planner's parallel groups run one after the other; inside a group at
 * most `maxParallel` at once, highest priority first on the first free slot (the same priority the scheduler uses).
 */
export function waveMakespan(stage: PlanStage, durations: ReadonlyMap<string, number>, maxParallel: number): number {
  const priority = new Map(stage.tasks.map((t) => [t.id, t.criticalPathMinutes]));
  let total = 0;
  for (const group of stage.parallelGroups) {
    const ordered = [...group].sort((a, b) => (priority.get(b) ?? 0) - (priority.get(a) ?? 0) || (a < b ? -1 : 1));
    const slots = new Array<number>(Math.min(maxParallel, ordered.length)).fill(0);
    for (const id of ordered) {
      let best = 0;
      for (let i = 1; i < slots.length; i++) if (slots[i]! < slots[best]!) best = i;
      slots[best]! += durations.get(id) ?? 0;
    }
    total += max(slots);
  }
  return total;
}

export function wavesMakespan(plan: Plan, durations: ReadonlyMap<string, number>, maxParallel: number): number {
  return sum(plan.stages.map((s) => waveMakespan(s, durations, maxParallel)));
}

/** Longest chain of real durations through same-stage dependencies. */
export function stageCriticalPath(stage: PlanStage, durations: ReadonlyMap<string, number>): number {
  const inStage = new Map(stage.tasks.map((t) => [t.id, t]));
  const finish = new Map<string, number>();
  const finishOf = (id: string): number => {
    const known = finish.get(id);
    if (known !== undefined) return known;
    const task = inStage.get(id)!;
    const start = max([0, ...task.deps.filter((d) => inStage.has(d)).map(finishOf)]);
    const value = start + (durations.get(id) ?? 0);
    finish.set(id, value);
    return value;
  };
  return max([0, ...stage.tasks.map((t) => finishOf(t.id))]);
}

/**
 * No schedule of a stage can beat max(its critical path, its work / parallelism); stages are barriers, so the
 * plan's bound is the sum of its stages' bounds.
 */
export function stageLowerBound(stage: PlanStage, durations: ReadonlyMap<string, number>, maxParallel: number): number {
  const work = sum(stage.tasks.map((t) => durations.get(t.id) ?? 0));
  return Math.max(stageCriticalPath(stage, durations), work / maxParallel);
}

export function lowerBound(plan: Plan, durations: ReadonlyMap<string, number>, maxParallel: number): number {
  return sum(plan.stages.map((s) => stageLowerBound(s, durations, maxParallel)));
}

/**
 * A tighter bound for small stages: with more than P tasks, two of the P+1 longest must share a slot (tasks are
 * never split), so the stage takes at least the P-th plus the (P+1)-th longest duration.
 */
export function tightLowerBound(plan: Plan, durations: ReadonlyMap<string, number>, maxParallel: number): number {
  return sum(
    plan.stages.map((s) => {
      const sorted = s.tasks.map((t) => durations.get(t.id) ?? 0).sort((a, b) => b - a);
      const pair = sorted.length > maxParallel ? sorted[maxParallel - 1]! + sorted[maxParallel]! : 0;
      return Math.max(stageLowerBound(s, durations, maxParallel), pair);
    }),
  );
}
