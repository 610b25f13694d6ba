import { defaultConfig } from '../../src/config/schema.js';
import type { GateThresholds } from '../../src/monitor/gate.js';
import type { ResourceSample } from '../../src/monitor/sample.js';

/** The configured defaults: the tests hold them to their promises. */
export function defaults(): GateThresholds & { sample_interval_ms: number } {
  return defaultConfig().resources;
}

/** An idle 2-core machine unless told otherwise. */
export function sampleOf(over: Partial<ResourceSample> = {}): ResourceSample {
  const base = { at: 0, cpus: 2, load1: 0.1, freeMemoryMb: 8000, freeDiskMb: 50_000, ...over };
  const loadPerCpu = base.load1 === null ? null : base.load1 / base.cpus;
  return { loadPerCpu, ...base };
}
