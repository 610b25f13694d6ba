import type { ResourceSample } from './sample.js';

/** 120 samples: at least 4 minutes at the smallest sample interval people use (2 s), ~15 KB of JSON. */
export const DEFAULT_METRICS_CAPACITY = 120;

/** The resource part of `logs/metrics.json`. Extremes and totals cover the whole run, not just `recent`. */
export interface ResourceMetrics {
  /** Fresh (uncached) samples taken. */
  samples: number;
  /** Time spent taking them, ms, total and worst single sample. */
  samplingCostMs: number;
  maxSamplingCostMs: number;
  /** Null until some sample could read the figure. */
  minFreeMemoryMb: number | null;
  minFreeDiskMb: number | null;
  maxLoad1: number | null;
  maxLoadPerCpu: number | null;
  /** Starts the gate held back (`count`, for `totalMs` in all) or let through although closed (`forcedStarts`). */
  waits: { count: number; totalMs: number; forcedStarts: number };
  /** The latest samples, oldest first, at most the recorder's capacity. */
  recent: ResourceSample[];
}

export interface MetricsRecorder {
  recordSample(sample: ResourceSample, costMs: number): void;
  recordWait(waitedMs: number, forced: boolean): void;
  summary(): ResourceMetrics;
}

export function createMetricsRecorder(capacity: number = DEFAULT_METRICS_CAPACITY): MetricsRecorder {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number >= 1, got ${capacity}`);
  const ring: ResourceSample[] = [];
  let next = 0; // where the next sample goes once the ring is full
  const totals = { samples: 0, costMs: 0, maxCostMs: 0, waits: 0, waitedMs: 0, forced: 0 };
  const extremes = {
    minFreeMemoryMb: null as number | null,
    minFreeDiskMb: null as number | null,
    maxLoad1: null as number | null,
    maxLoadPerCpu: null as number | null,
  };

  return {
    recordSample(sample, costMs) {
      if (ring.length < capacity) ring.push(sample);
      else ring[next] = sample;
      next = (next + 1) % capacity;
      totals.samples += 1;
      totals.costMs += costMs;
      totals.maxCostMs = Math.max(totals.maxCostMs, costMs);
      extremes.minFreeMemoryMb = pick(Math.min, extremes.minFreeMemoryMb, sample.freeMemoryMb);
      extremes.minFreeDiskMb = pick(Math.min, extremes.minFreeDiskMb, sample.freeDiskMb);
      extremes.maxLoad1 = pick(Math.max, extremes.maxLoad1, sample.load1);
      extremes.maxLoadPerCpu = pick(Math.max, extremes.maxLoadPerCpu, sample.loadPerCpu);
    },
    recordWait(waitedMs, forced) {
      totals.waits += 1;
      totals.waitedMs += waitedMs;
      if (forced) totals.forced += 1;
    },
    summary() {
      // Until the ring is full `next` is its length, so this slice order holds in both cases.
      const recent = ring.length < capacity ? [...ring] : [...ring.slice(next), ...ring.slice(0, next)];
      return {
        samples: totals.samples,
        samplingCostMs: round2(totals.costMs),
        maxSamplingCostMs: round2(totals.maxCostMs),
        ...extremes,
        maxLoadPerCpu: extremes.maxLoadPerCpu === null ? null : round2(extremes.maxLoadPerCpu),
        waits: { count: totals.waits, totalMs: totals.waitedMs, forcedStarts: totals.forced },
        recent,
      };
    },
  };
}

function pick(f: (a: number, b: number) => number, current: number | null, value: number | null): number | null {
  if (value === null) return current;
  return current === null ? value : f(current, value);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
