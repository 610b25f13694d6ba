import { describe, expect, it } from 'vitest';
import { createMetricsRecorder } from '../../src/monitor/metrics.js';
import { sampleOf } from './helpers.js';

describe('resource metrics', () => {
  it('keeps only the latest samples, oldest first, but extremes over all of them', () => {
    const m = createMetricsRecorder(3);
    const memory = [700, 300, 900, 800, 600];
    memory.forEach((freeMemoryMb, i) => m.recordSample(sampleOf({ at: i, freeMemoryMb, load1: i, freeDiskMb: 5000 - i }), 1));
    const s = m.summary();
    expect(s.recent.map((r) => r.at)).toEqual([2, 3, 4]);
    expect(s).toMatchObject({ samples: 5, minFreeMemoryMb: 300, minFreeDiskMb: 4996, maxLoad1: 4, maxLoadPerCpu: 2 });
  });

  it('returns the ring in order before it is full', () => {
    const m = createMetricsRecorder(3);
    m.recordSample(sampleOf({ at: 1 }), 0);
    m.recordSample(sampleOf({ at: 2 }), 0);
    expect(m.summary().recent.map((r) => r.at)).toEqual([1, 2]);
  });

  it('ignores unreadable figures, and reports null when none was ever read', () => {
    const m = createMetricsRecorder();
    m.recordSample(sampleOf({ load1: null, freeMemoryMb: null, freeDiskMb: null }), 0);
    expect(m.summary()).toMatchObject({ minFreeMemoryMb: null, minFreeDiskMb: null, maxLoad1: null, maxLoadPerCpu: null });
    m.recordSample(sampleOf({ freeMemoryMb: 123 }), 0);
    m.recordSample(sampleOf({ freeMemoryMb: null }), 0);
    expect(m.summary().minFreeMemoryMb).toBe(123);
  });

  it('totals the sampling cost and the waits', () => {
    const m = createMetricsRecorder();
    m.recordSample(sampleOf(), 0.4);
    m.recordSample(sampleOf(), 8.123);
    m.recordWait(4000, false);
    m.recordWait(0, true);
    expect(m.summary()).toMatchObject({
      samplingCostMs: 8.52,
      maxSamplingCostMs: 8.12,
      waits: { count: 2, totalMs: 4000, forcedStarts: 1 },
    });
  });

  it('is JSON as it is', () => {
    const m = createMetricsRecorder();
    m.recordSample(sampleOf({ freeDiskMb: null }), 1);
    const s = m.summary();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('refuses a capacity that is not a whole number >= 1', () => {
    expect(() => createMetricsRecorder(0)).toThrow(RangeError);
    expect(() => createMetricsRecorder(1.5)).toThrow(RangeError);
  });
});
