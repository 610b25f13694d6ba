import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/plan/types.js';
import { nextToStart } from '../../src/scheduler/queries.js';
import { initialState, step } from '../../src/scheduler/state.js';
import type { SchedulerState } from '../../src/scheduler/types.js';
import { planOf } from '../plan/fixtures.js';

// Stage 1: 1A(10), 1B(40), 1C(30, needs 1A) → critical paths 1A 40, 1B 40, 1C 30.  Stage 2: 2A, 2B.
const plan = planOf([
  { id: '1A', est: 10 },
  { id: '1B', est: 40 },
  { id: '1C', est: 30, deps: ['1A'] },
  { id: '2A' },
  { id: '2B', deps: ['1C'] },
]);
const all = ['1A', '1B', '1C', '2A', '2B'];

function statuses(state: SchedulerState): Record<string, string> {
  return Object.fromEntries(state.tasks.map((t) => [t.id, t.status]));
}

describe('initialState', () => {
  it('starts the first stage: ready tasks pending, waiting ones blocked, later stages pending', () => {
    const state = initialState(plan, { selected: all });
    expect(statuses(state)).toEqual({ '1A': 'pending', '1B': 'pending', '1C': 'blocked', '2A': 'pending', '2B': 'pending' });
    expect(state.stages).toEqual([
      { stage: 1, phase: 'running' },
      { stage: 2, phase: 'waiting' },
    ]);
    expect(state).toMatchObject({ onFailure: 'stop', finished: false });
  });

  it('leaves out tasks neither selected nor done and carries done ones over', () => {
    const state = initialState(plan, { selected: ['1C', '2A'], done: ['1A', '1B', '1C'] });
    expect(state.tasks.map((t) => [t.id, t.status, t.carriedOver ?? false])).toEqual([
      ['1A', 'done', true],
      ['1B', 'done', true],
      ['1C', 'done', true], // selected but done: done wins
      ['2A', 'pending', false],
    ]);
    expect(state.stages).toEqual([{ stage: 2, phase: 'running' }]);
  });

  it('skips a task whose dependency is outside the run instead of waiting forever', () => {
    const state = initialState(plan, { selected: ['1C', '2B'] });
    expect(state.tasks.map((t) => [t.id, t.status, t.reason])).toEqual([
      ['1C', 'skipped', 'dependency 1A is neither done nor selected'],
      ['2B', 'skipped', 'dependency 1C was skipped'],
    ]);
    // Nothing can run in stage 1, so it is ready to settle straight away.
    expect(state.stages[0]?.phase).toBe('settling');
  });

  it('is finished at once when nothing is selected', () => {
    expect(initialState(plan, { selected: [], done: all })).toMatchObject({ finished: true, stages: [] });
  });

  it('throws on ids the plan does not know', () => {
    expect(() => initialState(plan, { selected: ['9Z'] })).toThrow(/9Z/);
  });

  it('skips a dependency cycle rather than hanging (unvalidated input)', () => {
    const cyclic: Plan = {
      stages: [
        {
          stage: 1,
          tasks: [
            { id: '1A', stage: 1, title: 'A', deps: ['1B'], estimateMinutes: 1, criticalPathMinutes: 1 },
            { id: '1B', stage: 1, title: 'B', deps: ['1A'], estimateMinutes: 1, criticalPathMinutes: 1 },
          ],
          parallelGroups: [],
          criticalPath: { ids: [], minutes: 0 },
        },
      ],
      criticalPathMinutes: 0,
      totalWorkMinutes: 2,
    };
    const state = initialState(cyclic, { selected: ['1A', '1B'] });
    expect(state.tasks.map((t) => t.status)).toEqual(['skipped', 'skipped']);
    expect(state.stages[0]?.phase).toBe('settling');
  });
});

describe('nextToStart', () => {
  it('orders by critical path, ties in milestone order, limited by free slots', () => {
    // 1A and 1B tie at 40 minutes; 1C is blocked.
    const state = initialState(plan, { selected: all });
    expect(nextToStart(state, 5)).toEqual(['1A', '1B']);
    expect(nextToStart(state, 1)).toEqual(['1A']);
    const oneRunning = step(state, { type: 'task-started', id: '1B' });
    expect(nextToStart(oneRunning, 2)).toEqual(['1A']);
    expect(nextToStart(oneRunning, 1)).toEqual([]);
  });

  it('returns nothing after a stop request', () => {
    const state = step(initialState(plan, { selected: all }), { type: 'stop-requested', reason: 'bye' });
    expect(nextToStart(state, 5)).toEqual([]);
  });
});

describe('step', () => {
  const start = initialState(plan, { selected: all });

  it('unblocks a dependent when its dependency is done, without touching the input state', () => {
    const running = step(start, { type: 'task-started', id: '1A' });
    const after = step(running, { type: 'task-finished', id: '1A', status: 'done' });
    expect(statuses(after)['1C']).toBe('pending');
    expect(statuses(running)).toMatchObject({ '1A': 'running', '1C': 'blocked' });
    expect(statuses(start)['1A']).toBe('pending');
  });

  it('moves the stage to settling once every task settled, then to the next stage', () => {
    let state = start;
    for (const id of ['1A', '1B', '1C']) {
      if (statuses(state)[id] !== 'pending') throw new Error(`${id} not ready`);
      state = step(state, { type: 'task-started', id });
      state = step(state, { type: 'task-finished', id, status: 'done' });
    }
    expect(state.stages.map((s) => s.phase)).toEqual(['settling', 'waiting']);
    expect(nextToStart(state, 5)).toEqual([]);
    state = step(state, { type: 'stage-settled', stage: 1, ok: true });
    expect(state.stages.map((s) => s.phase)).toEqual(['settled', 'running']);
    expect(nextToStart(state, 5)).toEqual(['2A', '2B']);
  });

  it('ends after the settle when a stop arrived meanwhile, unless that was the last stage', () => {
    let state = step(start, { type: 'task-started', id: '1B' });
    state = step(state, { type: 'task-finished', id: '1B', status: 'done' });
    state = step(state, { type: 'task-started', id: '1A' });
    state = step(state, { type: 'task-finished', id: '1A', status: 'done' });
    state = step(state, { type: 'task-started', id: '1C' });
    state = step(state, { type: 'task-finished', id: '1C', status: 'done' });
    const stopped = step(state, { type: 'stop-requested', reason: 'later' });
    const settled = step(stopped, { type: 'stage-settled', stage: 1, ok: true });
    expect(settled).toMatchObject({ finished: true, stoppedReason: 'later' });
    expect(statuses(settled)['2A']).toBe('pending');

    const single = initialState(planOf([{ id: '1A' }]), { selected: ['1A'] });
    let last = step(single, { type: 'task-started', id: '1A' });
    last = step(last, { type: 'task-finished', id: '1A', status: 'done' });
    last = step(step(last, { type: 'stop-requested', reason: 'late' }), { type: 'stage-settled', stage: 1, ok: true });
    expect(last.finished).toBe(true);
    expect(last.stoppedReason).toBeUndefined();
  });

  it('reaches a stage whose tasks were all skipped and lets it settle at once (continue)', () => {
    const chain = planOf([{ id: '1A' }, { id: '2A', deps: ['1A'] }]);
    let state = initialState(chain, { selected: ['1A', '2A'], onFailure: 'continue' });
    state = step(state, { type: 'task-started', id: '1A' });
    state = step(state, { type: 'task-finished', id: '1A', status: 'failed' });
    state = step(state, { type: 'stage-settled', stage: 1, ok: true });
    expect(state.stages.map((s) => s.phase)).toEqual(['settled', 'settling']);
    state = step(state, { type: 'stage-settled', stage: 2, ok: true });
    expect(state).toMatchObject({ finished: true });
    expect(state.stoppedReason).toBeUndefined();
  });

  it('throws on events that cannot happen', () => {
    expect(() => step(start, { type: 'task-started', id: '1C' })).toThrow(/cannot start 1C/); // blocked
    expect(() => step(start, { type: 'task-started', id: '2A' })).toThrow(/cannot start 2A/); // later stage
    expect(() => step(start, { type: 'task-finished', id: '1A', status: 'done' })).toThrow(/was pending/);
    expect(() => step(start, { type: 'stage-settled', stage: 1, ok: true })).toThrow(/was running/);
    expect(() => step(start, { type: 'task-started', id: '9Z' })).toThrow(/not part of this run/);
  });

  it('keeps the first stop reason', () => {
    const once = step(start, { type: 'stop-requested', reason: 'first' });
    expect(step(once, { type: 'stop-requested', reason: 'second' }).stopRequested).toBe('first');
  });
});

describe('a task cut off by a stop', () => {
  const running = () => step(step(initialState(plan, { selected: all }), { type: 'task-started', id: '1A' }), { type: 'task-started', id: '1B' });

  it('goes back to pending (not failed) while a stop is requested, and its stage is not settled', () => {
    let state = step(running(), { type: 'stop-requested', reason: 'usage limit' });
    state = step(state, { type: 'task-finished', id: '1A', status: 'interrupted', reason: 'stopped before finishing' });
    state = step(state, { type: 'task-finished', id: '1B', status: 'done' });
    expect(statuses(state)).toMatchObject({ '1A': 'pending', '1B': 'done', '1C': 'pending' });
    expect(state.tasks.find((t) => t.id === '1A')!.reason).toBe('stopped before finishing');
    expect(state.stages[0]!.phase).toBe('running');
    expect(state).toMatchObject({ finished: true, stoppedReason: 'usage limit' });
  });

  it('counts as failed without a stop, so it never restarts in a loop', () => {
    const state = step(running(), { type: 'task-finished', id: '1A', status: 'interrupted' });
    expect(statuses(state)['1A']).toBe('failed');
    expect(statuses(state)['1C']).toBe('skipped');
  });
});
