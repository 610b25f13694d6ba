import { describe, expect, it } from 'vitest';
import { createMetricsRecorder } from '../../src/monitor/metrics.js';
import type { ResourceSample } from '../../src/monitor/sample.js';
import { waitForResources, type WaitOptions } from '../../src/monitor/wait.js';
import { defaults, sampleOf } from './helpers.js';

const LOW_MEMORY = sampleOf({ freeMemoryMb: 300 });
const LOWER_MEMORY = sampleOf({ freeMemoryMb: 200 });
const LOW_DISK = sampleOf({ freeDiskMb: 10 });
const IDLE = sampleOf();

/** Hands out `samples` in turn (the last one forever); sleeping advances a fake clock. */
function harness(samples: ResourceSample[], over: Partial<WaitOptions> = {}) {
  let t = 0;
  let taken = 0;
  const waits: string[][] = [];
  const sleeps: number[] = [];
  const opts: WaitOptions = {
    sampler: { sample: async () => samples[Math.min(taken++, samples.length - 1)]! },
    thresholds: defaults(),
    runningAgents: () => 2,
    signal: new AbortController().signal,
    onWait: (reasons) => waits.push(reasons),
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    ...over,
  };
  return { opts, waits, sleeps, taken: () => taken };
}

describe('waitForResources', () => {
  it('resolves at once when the gate is open', async () => {
    const h = harness([IDLE]);
    expect(await waitForResources(h.opts)).toEqual({ waitedMs: 0, forced: false });
    expect(h.waits).toEqual([]);
    expect(h.sleeps).toEqual([]);
  });

  it('waits, polling every sample interval, and announces the wait once while the same checks fail', async () => {
    const h = harness([LOW_MEMORY, LOWER_MEMORY, IDLE]);
    expect(await waitForResources(h.opts)).toEqual({ waitedMs: 4000, forced: false });
    expect(h.sleeps).toEqual([2000, 2000]);
    expect(h.waits).toEqual([['free memory 300 MB < 512 MB (resources.min_free_memory_mb)']]);
  });

  it('announces again when the failed checks change', async () => {
    const h = harness([LOW_MEMORY, LOW_DISK, LOW_DISK, IDLE], { pollMs: 500 });
    await waitForResources(h.opts);
    expect(h.sleeps).toEqual([500, 500, 500]);
    expect(h.waits.map((r) => r[0]?.split(' ')[1])).toEqual(['memory', 'disk']);
  });

  it('reminds with fresh numbers during a long wait', async () => {
    const h = harness([LOW_MEMORY, LOWER_MEMORY, LOWER_MEMORY, LOWER_MEMORY, IDLE], { remindMs: 5000 });
    await waitForResources(h.opts);
    // Polls at 0, 2000, 4000, 6000: announced at 0, reminded at 6000.
    expect(h.waits).toEqual([[expect.stringContaining('300 MB')], [expect.stringContaining('200 MB')]]);
  });

  it('lets the agent start anyway, with the reasons, when none of ours runs', async () => {
    const h = harness([LOW_MEMORY], { runningAgents: () => 0 });
    expect(await waitForResources(h.opts)).toEqual({
      waitedMs: 0,
      forced: true,
      reasons: ['free memory 300 MB < 512 MB (resources.min_free_memory_mb)'],
    });
    expect(h.waits).toEqual([]);
  });

  it('asks for the running agents on every poll: the last one finishing ends the wait', async () => {
    const running = [2, 1, 0];
    const h = harness([LOW_MEMORY], { runningAgents: () => running.shift() ?? 0 });
    expect(await waitForResources(h.opts)).toMatchObject({ waitedMs: 4000, forced: true });
  });

  it('counts the agents still starting', async () => {
    const starting = [2, 1];
    const h = harness([sampleOf({ load1: 1.6 })], { runningAgents: () => 3, startingAgents: () => starting.shift() ?? 0 });
    expect(await waitForResources(h.opts)).toEqual({ waitedMs: 2000, forced: false });
    expect(h.waits[0]?.[0]).toContain('2 starting agents');
  });

  it('neither samples nor waits when the guard is disabled', async () => {
    const h = harness([LOW_MEMORY], { thresholds: { ...defaults(), enabled: false } });
    expect(await waitForResources(h.opts)).toEqual({ waitedMs: 0, forced: false });
    expect(h.taken()).toBe(0);
  });

  it('records held-back and forced starts in the metrics, not free ones', async () => {
    const metrics = createMetricsRecorder();
    await waitForResources(harness([IDLE], { metrics }).opts);
    await waitForResources(harness([LOW_DISK, IDLE], { metrics }).opts);
    await waitForResources(harness([LOW_DISK], { metrics, runningAgents: () => 0 }).opts);
    expect(metrics.summary().waits).toEqual({ count: 2, totalMs: 2000, forcedStarts: 1 });
  });
});

describe('waitForResources and the stop signal', () => {
  it('rejects with the reason before sampling when already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop requested'));
    const h = harness([IDLE], { signal: controller.signal });
    await expect(waitForResources(h.opts)).rejects.toThrow('stop requested');
    expect(h.taken()).toBe(0);
  });

  it('rejects promptly during a real sleep', async () => {
    const controller = new AbortController();
    const h = harness([LOW_MEMORY], {
      signal: controller.signal,
      sleep: undefined,
      now: Date.now,
      pollMs: 60_000,
      onWait: () => controller.abort(new Error('user pressed ctrl-c')),
    });
    const started = Date.now();
    await expect(waitForResources(h.opts)).rejects.toThrow('user pressed ctrl-c');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects promptly while a sample is being taken', async () => {
    const controller = new AbortController();
    const h = harness([IDLE], { signal: controller.signal, sampler: { sample: () => new Promise(() => {}) } });
    const waiting = waitForResources(h.opts);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });

  it('stops after a sleep that ends quietly on abort', async () => {
    const controller = new AbortController();
    const h = harness([LOW_MEMORY], { signal: controller.signal, sleep: async () => controller.abort(new Error('stopped')) });
    await expect(waitForResources(h.opts)).rejects.toThrow('stopped');
    expect(h.taken()).toBe(1);
  });
});
