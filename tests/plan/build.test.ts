import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build.js';
import type { Plan, PlanTask } from '../../src/plan/types.js';
import { milestone, planOf } from './fixtures.js';

function task(plan: Plan, id: string): PlanTask {
  const found = plan.stages.flatMap((s) => s.tasks).find((t) => t.id === id);
  if (!found) throw new Error(`no task ${id}`);
  return found;
}

describe('buildPlan', () => {
  // 1A(10) → 1B(20) → 1D(5), 1A → 1C(30) → 1D
  const diamond = [
    { id: '1A', est: 10 },
    { id: '1B', est: 20, deps: ['1A'] },
    { id: '1C', est: 30, deps: ['1A'] },
    { id: '1D', est: 5, deps: ['1C', '1B'] },
  ];

  it('computes critical paths on a diamond: own estimate plus the heaviest same-stage dependent chain', () => {
    const plan = planOf(diamond);
    expect(['1A', '1B', '1C', '1D'].map((id) => task(plan, id).criticalPathMinutes)).toEqual([45, 25, 35, 5]);
    expect(plan.stages[0]?.criticalPath).toEqual({ ids: ['1A', '1C', '1D'], minutes: 45 });
  });

  it('groups tasks by their longest same-stage dependency depth', () => {
    expect(planOf(diamond).stages[0]?.parallelGroups).toEqual([['1A'], ['1B', '1C'], ['1D']]);
    // 1C depends on 1A directly and through 1B: its depth is the longer chain, 2.
    const plan = planOf([{ id: '1A' }, { id: '1B', deps: ['1A'] }, { id: '1C', deps: ['1A', '1B'] }, { id: '1D' }]);
    expect(plan.stages[0]?.parallelGroups).toEqual([['1A', '1D'], ['1B'], ['1C']]);
  });

  it('orders stages ascending and tasks by letter, whatever the input order', () => {
    const plan = planOf([{ id: '2B' }, { id: '1B' }, { id: '2A' }, { id: '1A' }]);
    expect(plan.stages.map((s) => [s.stage, s.tasks.map((t) => t.id)])).toEqual([
      [1, ['1A', '1B']],
      [2, ['2A', '2B']],
    ]);
  });

  it('keeps earlier-stage deps in deps but not in the stage numbers', () => {
    const plan = planOf([
      { id: '1A', est: 100 },
      { id: '2A', est: 10, deps: ['2B', '1A'] },
      { id: '2B', est: 20 },
    ]);
    expect(task(plan, '2A').deps).toEqual(['1A', '2B']);
    expect(task(plan, '2B').criticalPathMinutes).toBe(30);
    expect(task(plan, '2A').criticalPathMinutes).toBe(10);
    expect(plan.stages[1]?.parallelGroups).toEqual([['2B'], ['2A']]);
    expect(plan.stages[1]?.criticalPath).toEqual({ ids: ['2B', '2A'], minutes: 30 });
  });

  it('sums stage critical paths and all estimates', () => {
    const plan = planOf([
      { id: '1A', est: 30 },
      { id: '1B', est: 50 },
      { id: '2A', est: 20 },
      { id: '2B', est: 15, deps: ['2A'] },
    ]);
    expect(plan.criticalPathMinutes).toBe(50 + 35);
    expect(plan.totalWorkMinutes).toBe(115);
  });

  it('uses the default estimate for milestones without one and marks it', () => {
    const milestones = [milestone({ id: '1A', est: null }), milestone({ id: '1B', est: 5 })];
    expect(task(buildPlan(milestones), '1A')).toMatchObject({ estimateMinutes: 60, estimateIsDefault: true });
    expect(task(buildPlan(milestones, { defaultEstimateMinutes: 25 }), '1A').estimateMinutes).toBe(25);
    expect(task(buildPlan(milestones), '1B').estimateIsDefault).toBeUndefined();
  });

  it('breaks critical-path ties by letter order and starts the chain at a root', () => {
    // 1B is 0 minutes and depends on 1A: equal weights, but the chain must start at the root 1A.
    const plan = planOf([
      { id: '1A', est: 0 },
      { id: '1B', est: 0, deps: ['1A'] },
      { id: '1C', est: 0 },
    ]);
    expect(plan.stages[0]?.criticalPath).toEqual({ ids: ['1A', '1B'], minutes: 0 });
  });

  it('throws on a cycle (milestones must be validated first)', () => {
    expect(() => planOf([{ id: '1A', deps: ['1B'] }, { id: '1B', deps: ['1A'] }])).toThrow(/cycle/);
  });
});
