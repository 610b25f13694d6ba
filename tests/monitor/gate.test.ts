import { describe, expect, it } from 'vitest';
import { evaluateGate } from '../../src/monitor/gate.js';
import { defaults, sampleOf } from './helpers.js';

const running = { runningAgents: 2 };

describe('evaluateGate: one threshold at a time', () => {
  it('lets the first agent start on an idle machine with the default thresholds', () => {
    expect(evaluateGate(sampleOf(), defaults(), { runningAgents: 0 })).toEqual({ ok: true });
  });

  it('blocks on load per CPU above the maximum, and says why', () => {
    const verdict = evaluateGate(sampleOf({ load1: 3.4 }), defaults(), running);
    expect(verdict).toEqual({
      ok: false,
      reasons: ['load 1.70 per CPU (3.40 on 2 CPUs) > 1.5 (resources.max_load_per_cpu)'],
      failed: ['load'],
      wouldWaitForever: false,
    });
  });

  it('admits a load exactly at the maximum ("above" blocks)', () => {
    expect(evaluateGate(sampleOf({ load1: 3 }), defaults(), running).ok).toBe(true);
  });

  it('blocks on free memory below the minimum', () => {
    const verdict = evaluateGate(sampleOf({ freeMemoryMb: 380 }), defaults(), running);
    expect(verdict).toMatchObject({
      ok: false,
      reasons: ['free memory 380 MB < 512 MB (resources.min_free_memory_mb)'],
      failed: ['memory'],
    });
    expect(evaluateGate(sampleOf({ freeMemoryMb: 512 }), defaults(), running).ok).toBe(true);
  });

  it('blocks on free disk below the minimum', () => {
    const verdict = evaluateGate(sampleOf({ freeDiskMb: 900 }), defaults(), running);
    expect(verdict).toMatchObject({
      ok: false,
      reasons: ['free disk 900 MB < 1024 MB (resources.min_free_disk_mb)'],
      failed: ['disk'],
    });
    expect(evaluateGate(sampleOf({ freeDiskMb: 1024 }), defaults(), running).ok).toBe(true);
  });

  it('uses the configured numbers, not the defaults', () => {
    const strict = { ...defaults(), max_load_per_cpu: 0.5, min_free_memory_mb: 10_000, min_free_disk_mb: 60_000 };
    const verdict = evaluateGate(sampleOf({ load1: 1.2 }), strict, running);
    expect(verdict.ok === false && verdict.failed).toEqual(['load', 'memory', 'disk']);
  });

  it('admits anything when the guard is disabled', () => {
    const awful = sampleOf({ load1: 50, freeMemoryMb: 1, freeDiskMb: 1 });
    expect(evaluateGate(awful, { ...defaults(), enabled: false }, running)).toEqual({ ok: true });
  });

  it('skips a check whose figure could not be read', () => {
    const unreadable = sampleOf({ load1: null, freeMemoryMb: null, freeDiskMb: null });
    const strict = { ...defaults(), max_load_per_cpu: 0.01, min_free_memory_mb: 1e9, min_free_disk_mb: 1e9 };
    expect(evaluateGate(unreadable, strict, running)).toEqual({ ok: true });
  });
});

describe('evaluateGate: several at once', () => {
  it('lists every failed check in a fixed order', () => {
    const verdict = evaluateGate(sampleOf({ freeDiskMb: 10, load1: 8, freeMemoryMb: 100 }), defaults(), running);
    expect(verdict).toEqual({
      ok: false,
      reasons: [
        'load 4.00 per CPU (8.00 on 2 CPUs) > 1.5 (resources.max_load_per_cpu)',
        'free memory 100 MB < 512 MB (resources.min_free_memory_mb)',
        'free disk 10 MB < 1024 MB (resources.min_free_disk_mb)',
      ],
      failed: ['load', 'memory', 'disk'],
      wouldWaitForever: false,
    });
  });
});

describe('evaluateGate: agents still starting', () => {
  it('adds 1.25 load per starting agent, which the load average does not show yet', () => {
    const sample = sampleOf({ load1: 1.6 });
    expect(evaluateGate(sample, defaults(), { runningAgents: 3, startingAgents: 1 }).ok).toBe(true); // 2.85/2
    const verdict = evaluateGate(sample, defaults(), { runningAgents: 3, startingAgents: 2 }); // 4.1/2
    expect(verdict).toMatchObject({
      ok: false,
      reasons: ['load 2.05 per CPU (1.60 measured + 2 starting agents × 1.25, on 2 CPUs) > 1.5 (resources.max_load_per_cpu)'],
    });
  });

  it('subtracts 250 MB per starting agent from available memory', () => {
    const sample = sampleOf({ freeMemoryMb: 1000 });
    expect(evaluateGate(sample, defaults(), { runningAgents: 2, startingAgents: 1 }).ok).toBe(true); // 750
    expect(evaluateGate(sample, defaults(), { runningAgents: 2, startingAgents: 2 })).toMatchObject({
      ok: false,
      reasons: ['free memory 500 MB (1000 MB available − 2 starting agents × 250 MB) < 512 MB (resources.min_free_memory_mb)'],
      failed: ['memory'],
    });
  });

  it('never counts more starting agents than are running', () => {
    const sample = sampleOf({ freeMemoryMb: 1000 });
    expect(evaluateGate(sample, defaults(), { runningAgents: 1, startingAgents: 5 }).ok).toBe(true);
  });

  it('takes another start-up cost when given one', () => {
    const verdict = evaluateGate(sampleOf({ load1: 0 }), defaults(), { runningAgents: 1, startingAgents: 1 }, { load: 4, memoryMb: 0 });
    expect(verdict.ok === false && verdict.failed).toEqual(['load']);
  });

  it('with the defaults, lets 3 agents start at once on an idle 2-core machine and holds the 4th', () => {
    let started = 0;
    while (started < 10 && evaluateGate(sampleOf({ load1: 0.1 }), defaults(), { runningAgents: started, startingAgents: started }).ok) {
      started += 1;
    }
    expect(started).toBe(3);
  });
});

describe('evaluateGate: nothing running', () => {
  it('says waiting would last forever when none of our agents runs', () => {
    const verdict = evaluateGate(sampleOf({ freeMemoryMb: 380 }), defaults(), { runningAgents: 0 });
    expect(verdict).toMatchObject({ ok: false, failed: ['memory'], wouldWaitForever: true });
  });

  it('does not while one runs: its end may free what is missing', () => {
    const verdict = evaluateGate(sampleOf({ freeMemoryMb: 380 }), defaults(), { runningAgents: 1 });
    expect(verdict).toMatchObject({ ok: false, wouldWaitForever: false });
  });
});
