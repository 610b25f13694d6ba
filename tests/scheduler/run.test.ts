import { describe, expect, it } from 'vitest';
import { runSchedule, type RunScheduleOptions } from '../../src/scheduler/run.js';
import { planOf } from '../plan/fixtures.js';
import { deferred, flush, startHarness } from './harness.js';

describe('runSchedule: starting tasks', () => {
  it('starts a task as soon as its same-stage dependency is done, while siblings still run (no wave barrier)', async () => {
    const plan = planOf([{ id: '1A', est: 10 }, { id: '1B', est: 100 }, { id: '1C', est: 10, deps: ['1A'] }]);
    const h = await startHarness(plan);
    expect(h.running()).toEqual(['1A', '1B']);
    expect(h.status('1C')).toBe('blocked');

    await h.finish('1A');
    expect(h.running()).toEqual(['1B', '1C']);
    expect(h.settled).toEqual([]);

    await h.finish('1C');
    await h.finish('1B');
    expect(h.settled.map((s) => s.stage)).toEqual([1]);
    const result = await h.result;
    expect(result.ok).toBe(true);
    expect(result.tasks.map((t) => t.status)).toEqual(['done', 'done', 'done']);
  });

  it('starts the highest critical path first, ties in milestone order, re-ranking as tasks become ready', async () => {
    // Critical paths: 1A 110 (through 1D), 1B 30, 1C 20, 1D 100, 1E 20.
    const plan = planOf([
      { id: '1A', est: 10 },
      { id: '1B', est: 30 },
      { id: '1C', est: 20 },
      { id: '1D', est: 100, deps: ['1A'] },
      { id: '1E', est: 20 },
    ]);
    const h = await startHarness(plan, { maxParallel: 1 });
    for (const id of ['1A', '1D', '1B', '1C', '1E']) {
      expect(h.running()).toEqual([id]);
      await h.finish(id);
    }
    expect(h.started).toEqual(['1A', '1D', '1B', '1C', '1E']);
    expect((await h.result).ok).toBe(true);
  });

  it('never runs more than maxParallel tasks and refills a slot as soon as one frees', async () => {
    const plan = planOf(['1A', '1B', '1C', '1D', '1E'].map((id) => ({ id })));
    const h = await startHarness(plan, { maxParallel: 2 });
    expect(h.running()).toEqual(['1A', '1B']);
    await h.finish('1B');
    expect(h.running()).toEqual(['1A', '1C']);
    await h.finish('1A');
    await h.finish('1C');
    expect(h.running()).toEqual(['1D', '1E']);
    await h.finish('1E');
    await h.finish('1D');
    expect(h.maxConcurrent()).toBe(2);
    expect(h.started).toHaveLength(5);
    expect((await h.result).ok).toBe(true);
  });

  it('runs stages in order: the next stage starts only after the previous one settled', async () => {
    const plan = planOf([{ id: '1A' }, { id: '1B' }, { id: '2A' }]);
    const h = await startHarness(plan);
    expect(h.running()).toEqual(['1A', '1B']);
    await h.finish('1A');
    expect(h.running()).toEqual(['1B']); // 2A depends on nothing, but stage 1 is not over
    await h.finish('1B');
    expect(h.settled.map((s) => s.stage)).toEqual([1]);
    expect(h.running()).toEqual(['2A']);
    await h.finish('2A');
    expect(h.settled.map((s) => s.stage)).toEqual([1, 2]);
    await h.result;
  });

  it('waits for a slow settleStage before starting the next stage', async () => {
    const plan = planOf([{ id: '1A' }, { id: '2A' }]);
    const gate = deferred<{ ok: boolean }>();
    const started: string[] = [];
    const result = runSchedule(plan, {
      selected: ['1A', '2A'],
      maxParallel: 4,
      onFailure: 'stop',
      runTask: async (id) => {
        started.push(id);
        return { status: 'done' };
      },
      settleStage: (stage) => (stage === 1 ? gate.promise : Promise.resolve({ ok: true })),
    });
    await flush();
    expect(started).toEqual(['1A']);
    gate.resolve({ ok: true });
    await result;
    expect(started).toEqual(['1A', '2A']);
  });

  it('rejects a maxParallel below 1', async () => {
    const plan = planOf([{ id: '1A' }]);
    const opts: RunScheduleOptions = {
      selected: ['1A'],
      maxParallel: 0,
      onFailure: 'stop',
      runTask: async () => ({ status: 'done' }),
      settleStage: async () => ({ ok: true }),
    };
    await expect(runSchedule(plan, opts)).rejects.toThrow(RangeError);
  });
});

describe('runSchedule: failures', () => {
  // Stage 1: 1A, 1B (needs 1A), 1C.  Stage 2: 2A (needs 1B), 2B (needs 2A), 2C.
  const plan = planOf([
    { id: '1A' },
    { id: '1B', deps: ['1A'] },
    { id: '1C' },
    { id: '2A', deps: ['1B'] },
    { id: '2B', deps: ['2A'] },
    { id: '2C' },
  ]);

  it('skips dependents transitively across stages and, with continue, runs the rest', async () => {
    const h = await startHarness(plan, { onFailure: 'continue' });
    expect(h.running()).toEqual(['1A', '1C']);
    await h.finish('1A', 'failed', 'tests are red');
    expect(h.status('1A')).toBe('failed');
    expect(h.reason('1A')).toBe('tests are red');
    expect(h.reason('1B')).toBe('dependency 1A failed');
    expect(h.reason('2A')).toBe('dependency 1A failed (via 1B)');
    expect(h.reason('2B')).toBe('dependency 1A failed (via 2A)');
    expect(['1B', '2A', '2B'].map(h.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(h.running()).toEqual(['1C']);

    await h.finish('1C');
    expect(h.settled[0]?.outcome.failures).toEqual(['1A']);
    expect(h.running()).toEqual(['2C']);
    await h.finish('2C');
    const result = await h.result;
    expect(h.settled.map((s) => s.stage)).toEqual([1, 2]);
    expect(result.stoppedReason).toBeUndefined();
    expect(result.ok).toBe(false);
    expect(h.started).toEqual(['1A', '1C', '2C']);
  });

  it('with stop, lets the failed stage finish, settles it, then skips every later task', async () => {
    const h = await startHarness(plan, { onFailure: 'stop' });
    await h.finish('1A', 'failed');
    expect(h.running()).toEqual(['1C']); // the rest of the stage still finishes
    await h.finish('1C');
    const result = await h.result;
    expect(h.settled.map((s) => s.stage)).toEqual([1]);
    expect(result.stoppedReason).toBe('stage 1 had failures: 1A failed');
    expect(h.status('2C')).toBe('skipped');
    expect(h.reason('2C')).toBe('run stopped: stage 1 had failures: 1A failed');
    expect(result.stages.map((s) => s.phase)).toEqual(['settled', 'waiting']);
  });

  it('treats needs_attention like a failure', async () => {
    const h = await startHarness(plan, { onFailure: 'stop' });
    await h.finish('1A', 'needs_attention', 'reviewer rejected');
    await h.finish('1C');
    const result = await h.result;
    expect(h.reason('1B')).toBe('dependency 1A needs attention');
    expect(result.stoppedReason).toBe('stage 1 had failures: 1A needs attention');
  });

  it('stops when settleStage is not ok, even with continue', async () => {
    const h = await startHarness(plan, {
      onFailure: 'continue',
      settle: { 1: { ok: false, reason: 'merge conflict in src/x.ts' } },
    });
    await h.finish('1A');
    await h.finish('1C');
    await h.finish('1B');
    const result = await h.result;
    expect(result.stoppedReason).toBe('stage 1 could not be settled: merge conflict in src/x.ts');
    expect(result.stages[0]).toMatchObject({ phase: 'settled', ok: false, reason: 'merge conflict in src/x.ts' });
    expect(['2A', '2B', '2C'].map(h.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(h.started).not.toContain('2C');
  });

  it('treats a throwing settleStage as not ok', async () => {
    const h = await startHarness(planOf([{ id: '1A' }, { id: '2A' }]), {
      onFailure: 'continue',
      settle: { 1: new Error('git exploded') },
    });
    await h.finish('1A');
    expect((await h.result).stoppedReason).toBe('stage 1 could not be settled: git exploded');
  });

  it('records a throwing runTask as failed with its message and does not crash', async () => {
    const h = await startHarness(plan, { onFailure: 'continue' });
    await h.crash('1A', new Error('agent crashed'));
    expect(h.status('1A')).toBe('failed');
    expect(h.reason('1A')).toBe('agent crashed');
    expect(h.status('1B')).toBe('skipped');

    const sync = await runSchedule(planOf([{ id: '1A' }]), {
      selected: ['1A'],
      maxParallel: 1,
      onFailure: 'stop',
      runTask: () => {
        throw new Error('not even a promise');
      },
      settleStage: async () => ({ ok: true }),
    });
    expect(sync.tasks[0]).toMatchObject({ status: 'failed', reason: 'not even a promise' });
  });
});

describe('runSchedule: stop and resume', () => {
  // Stage 1: 1A (heaviest), 1B, 1C (needs 1A).  Stage 2: 2A.
  const plan = planOf([{ id: '1A', est: 50 }, { id: '1B' }, { id: '1C', deps: ['1A'] }, { id: '2A' }]);

  it('on abort starts nothing new, records running results, and leaves unstarted tasks pending', async () => {
    const stop = new AbortController();
    const h = await startHarness(plan, { maxParallel: 1, signal: stop.signal });
    expect(h.running()).toEqual(['1A']);
    stop.abort('user pressed Ctrl-C');
    await flush();
    expect(h.signals.get('1A')?.aborted).toBe(true); // the runner may abort or finish: its call
    expect(h.status('1C')).toBe('pending'); // no longer "blocked": nothing waits after a stop

    await h.finish('1A');
    const result = await h.result;
    expect(h.started).toEqual(['1A']);
    expect(result.tasks.map((t) => [t.id, t.status])).toEqual([
      ['1A', 'done'],
      ['1B', 'pending'],
      ['1C', 'pending'],
      ['2A', 'pending'],
    ]);
    expect(result.stoppedReason).toBe('user pressed Ctrl-C');
    expect(h.settled).toEqual([]); // stage 1 did not complete
  });

  it('still settles a stage that completes after the stop, then ends', async () => {
    const stop = new AbortController();
    const h = await startHarness(planOf([{ id: '1A' }, { id: '1B' }, { id: '2A' }]), { signal: stop.signal });
    stop.abort();
    await h.finish('1A');
    await h.finish('1B');
    const result = await h.result;
    expect(h.settled.map((s) => s.stage)).toEqual([1]);
    expect(result.stoppedReason).toBe('stop requested');
    expect(result.tasks.find((t) => t.id === '2A')?.status).toBe('pending');
  });

  it('does nothing when the signal is already aborted', async () => {
    const h = await startHarness(plan, { signal: AbortSignal.abort() });
    const result = await h.result;
    expect(h.started).toEqual([]);
    expect(result.tasks.every((t) => t.status === 'pending')).toBe(true);
  });

  it('resumes: done tasks are not re-run, satisfy dependencies and are reported to settleStage', async () => {
    const h = await startHarness(plan, { done: ['1A'], selected: ['1B', '1C', '2A'] });
    expect(h.running()).toEqual(['1B', '1C']); // 1C's dependency 1A is already done
    await h.finish('1B');
    await h.finish('1C');
    expect(h.settled[0]?.outcome.tasks.map((t) => [t.id, t.status, t.carriedOver ?? false])).toEqual([
      ['1A', 'done', true],
      ['1B', 'done', false],
      ['1C', 'done', false],
    ]);
    await h.finish('2A');
    expect((await h.result).ok).toBe(true);
    expect(h.started).toEqual(['1B', '1C', '2A']);
  });

  it('does not run or settle a stage whose tasks were all done before', async () => {
    const h = await startHarness(plan, { done: ['1A', '1B', '1C'], selected: ['2A'] });
    expect(h.running()).toEqual(['2A']);
    await h.finish('2A');
    await h.result;
    expect(h.settled.map((s) => s.stage)).toEqual([2]);
  });
});

describe('runSchedule: beforeStart and onChange', () => {
  const plan = planOf([{ id: '1A', est: 30 }, { id: '1B', est: 20 }, { id: '1C', est: 10 }]);

  it('awaits the gate before taking a slot, one gate at a time', async () => {
    const gates: { id: string; open: () => void }[] = [];
    const h = await startHarness(plan, {
      maxParallel: 2,
      beforeStart: (id) => {
        const d = deferred<void>();
        gates.push({ id, open: () => d.resolve() });
        return d.promise;
      },
    });
    expect(gates.map((g) => g.id)).toEqual(['1A']);
    expect(h.running()).toEqual([]);
    gates[0]?.open();
    await flush();
    expect(h.running()).toEqual(['1A']);
    expect(gates.map((g) => g.id)).toEqual(['1A', '1B']);
    gates[1]?.open();
    await flush();
    // Both slots are taken: 1C's gate is not even asked until one frees.
    expect(h.running()).toEqual(['1A', '1B']);
    expect(gates).toHaveLength(2);
    await h.finish('1A');
    expect(gates.map((g) => g.id)).toEqual(['1A', '1B', '1C']);
  });

  it('does not start a gated task when a stop arrives meanwhile', async () => {
    const stop = new AbortController();
    const gate = deferred<void>();
    const h = await startHarness(plan, { signal: stop.signal, beforeStart: () => gate.promise });
    stop.abort();
    gate.resolve();
    const result = await h.result;
    expect(h.started).toEqual([]);
    expect(result.tasks.map((t) => t.status)).toEqual(['pending', 'pending', 'pending']);
  });

  it('stops the run when the gate throws, leaving the task pending', async () => {
    const h = await startHarness(plan, {
      beforeStart: async () => {
        throw new Error('disk is full');
      },
    });
    const result = await h.result;
    expect(result.stoppedReason).toBe('could not start 1A: disk is full');
    expect(h.started).toEqual([]);
    expect(result.tasks[0]?.status).toBe('pending');
  });

  it('reports every transition with a fresh snapshot', async () => {
    const h = await startHarness(plan, { maxParallel: 1 });
    const first = h.states[0];
    expect(first?.tasks.map((t) => t.status)).toEqual(['pending', 'pending', 'pending']);
    expect(h.states[1]?.tasks.map((t) => t.status)).toEqual(['running', 'pending', 'pending']);
    await h.finish('1A');
    await h.finish('1B');
    await h.finish('1C');
    await h.result;
    // initial + 3 starts + 3 finishes + 1 settle
    expect(h.states).toHaveLength(8);
    expect(h.states.at(-2)?.stages[0]?.phase).toBe('settling');
    expect(h.states.at(-1)).toMatchObject({ finished: true, stages: [{ phase: 'settled', ok: true }] });
    expect(first?.tasks[0]?.status).toBe('pending'); // earlier snapshots are never mutated
  });

  it('stops when onChange throws, since state can no longer be recorded', async () => {
    let calls = 0;
    const h = await startHarness(plan, {
      maxParallel: 1,
      onChange: () => {
        calls += 1;
        if (calls === 2) throw new Error('EACCES: state.json');
      },
    });
    expect(h.running()).toEqual(['1A']);
    await h.finish('1A');
    const result = await h.result;
    expect(result.stoppedReason).toBe('onChange failed: EACCES: state.json');
    expect(h.started).toEqual(['1A']);
  });
});
