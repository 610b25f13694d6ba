import { describe, expect, it } from 'vitest';
import { createMetricsRecorder } from '../../src/monitor/metrics.js';
import type { ResourceReader } from '../../src/monitor/reader.js';
import { createSampler } from '../../src/monitor/sample.js';

/** Counts every call; each figure can be replaced. */
function countingReader(over: Partial<ResourceReader> = {}) {
  const calls = { cpus: 0, load1: 0, memory: 0, disk: [] as string[] };
  const reader: ResourceReader = {
    cpus: () => (calls.cpus++, over.cpus ? over.cpus() : 4),
    load1: () => (calls.load1++, over.load1 ? over.load1() : 2),
    availableMemoryMb: async () => (calls.memory++, over.availableMemoryMb ? over.availableMemoryMb() : 4096.4),
    freeDiskMb: async (p) => (calls.disk.push(p), over.freeDiskMb ? over.freeDiskMb(p) : 20_000.6),
  };
  return { reader, calls };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('sampler', () => {
  it('reads every figure, for the given path, and derives the per-CPU load', async () => {
    const { reader, calls } = countingReader();
    const c = clock();
    const s = await createSampler({ path: '/work/wt', intervalMs: 2000, reader, now: c.now }).sample();
    expect(s).toEqual({ at: 1_000_000, cpus: 4, load1: 2, loadPerCpu: 0.5, freeMemoryMb: 4096, freeDiskMb: 20_001 });
    expect(calls.disk).toEqual(['/work/wt']);
  });

  it('reuses a sample for the interval, then reads again', async () => {
    const { reader, calls } = countingReader();
    const c = clock();
    const sampler = createSampler({ path: '/p', intervalMs: 2000, reader, now: c.now });
    const first = await sampler.sample();
    c.advance(1999);
    expect(await sampler.sample()).toBe(first);
    expect([calls.cpus, calls.load1, calls.memory, calls.disk.length]).toEqual([1, 1, 1, 1]);
    c.advance(1);
    const second = await sampler.sample();
    expect(second).not.toBe(first);
    expect(second.at).toBe(first.at + 2000);
    expect([calls.cpus, calls.load1, calls.memory, calls.disk.length]).toEqual([2, 2, 2, 2]);
  });

  it('shares one reading among callers that ask while it is under way', async () => {
    const { reader, calls } = countingReader();
    const sampler = createSampler({ path: '/p', intervalMs: 2000, reader, now: clock().now });
    const [a, b] = await Promise.all([sampler.sample(), sampler.sample()]);
    expect(a).toBe(b);
    expect(calls.memory).toBe(1);
  });

  it('reads again when the clock went backwards', async () => {
    const { reader, calls } = countingReader();
    const c = clock();
    const sampler = createSampler({ path: '/p', intervalMs: 2000, reader, now: c.now });
    await sampler.sample();
    c.advance(-10);
    await sampler.sample();
    expect(calls.memory).toBe(2);
  });

  it('turns a failed figure into null, warns once, and keeps the others', async () => {
    const { reader } = countingReader({
      availableMemoryMb: () => {
        throw new Error('no /proc/meminfo');
      },
      freeDiskMb: () => Promise.reject(new Error('EACCES')),
    });
    const warnings: string[] = [];
    const c = clock();
    const sampler = createSampler({ path: '/wt', intervalMs: 100, reader, now: c.now, onWarning: (m) => warnings.push(m) });
    for (let i = 0; i < 3; i++, c.advance(100)) {
      expect(await sampler.sample()).toMatchObject({ cpus: 4, load1: 2, freeMemoryMb: null, freeDiskMb: null });
    }
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('available memory (no /proc/meminfo)');
    expect(warnings[1]).toContain('free disk space for /wt (EACCES)');
  });

  it('rejects implausible values, and an unreadable CPU count leaves the per-CPU load unknown', async () => {
    const { reader } = countingReader({ cpus: () => 0, load1: () => Number.NaN, availableMemoryMb: () => -1 });
    const warnings: string[] = [];
    const s = await createSampler({ path: '/p', intervalMs: 100, reader, onWarning: (m) => warnings.push(m) }).sample();
    expect(s).toMatchObject({ cpus: 1, load1: null, loadPerCpu: null, freeMemoryMb: null, freeDiskMb: 20_001 });
    expect(warnings.join('\n')).toContain('implausible value -1');
  });

  it('gives up on a figure that does not answer in time', async () => {
    const { reader } = countingReader({ freeDiskMb: () => new Promise<number>(() => {}) });
    const warnings: string[] = [];
    const sampler = createSampler({ path: '/nfs', intervalMs: 100, reader, readTimeoutMs: 20, onWarning: (m) => warnings.push(m) });
    expect((await sampler.sample()).freeDiskMb).toBeNull();
    expect(warnings).toEqual([expect.stringContaining('no answer within 20 ms')]);
  });

  it('records each fresh sample and its cost, not the cached ones', async () => {
    const { reader } = countingReader();
    const c = clock();
    let tick = 0;
    const metrics = createMetricsRecorder();
    const sampler = createSampler({ path: '/p', intervalMs: 2000, reader, now: c.now, timer: () => (tick += 1.5), metrics });
    await sampler.sample();
    await sampler.sample();
    c.advance(2000);
    await sampler.sample();
    expect(metrics.summary()).toMatchObject({ samples: 2, samplingCostMs: 3, maxSamplingCostMs: 1.5 });
  });
});
