import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetricsRecorder } from '../../src/monitor/metrics.js';
import { createSampler } from '../../src/monitor/sample.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mo-monitor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sampling this machine', () => {
  it('gives plausible numbers, cheaply, and no warnings', async () => {
    const warnings: string[] = [];
    const metrics = createMetricsRecorder();
    const sampler = createSampler({ path: dir, intervalMs: 2000, metrics, onWarning: (m) => warnings.push(m) });
    const s = await sampler.sample();
    expect(warnings).toEqual([]);
    expect(s.cpus).toBeGreaterThanOrEqual(1);
    expect(s.load1).toBeGreaterThanOrEqual(0);
    expect(s.loadPerCpu).toBeCloseTo(s.load1! / s.cpus, 10);
    expect(s.freeMemoryMb).toBeGreaterThan(0);
    expect(s.freeMemoryMb).toBeLessThanOrEqual(os.totalmem() / 2 ** 20);
    expect(s.freeDiskMb).toBeGreaterThan(0);
    expect(Math.abs(s.at - Date.now())).toBeLessThan(5000);
    // Generous: ~1 ms here on 2 cores, but test workers run in parallel.
    expect(metrics.summary().samplingCostMs).toBeLessThan(500);
  });

  it('measures a worktree directory that does not exist yet on the filesystem it will be created on', async () => {
    const sampler = (p: string) => createSampler({ path: p, intervalMs: 2000 }).sample();
    const [existing, future] = await Promise.all([sampler(dir), sampler(path.join(dir, 'not', 'yet', '.worktree'))]);
    expect(future.freeDiskMb).not.toBeNull();
    // Same filesystem; other tests write to it meanwhile, so allow some drift.
    expect(Math.abs(future.freeDiskMb! - existing.freeDiskMb!)).toBeLessThan(200);
  });
});
