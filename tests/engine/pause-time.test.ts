import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import type { RunState } from '../../src/state/run-state.js';
import { PauseController } from '../../src/run/limits.js';
import { localDateTime } from '../../src/report/local-time.js';

// What a person reads says when in their local time with its offset (as status and TASKS.md do); the state keeps
// ISO UTC for programs.
describe('the time a usage-limit stop names', () => {
  it('is local with its offset in the stop message, ISO UTC in the recorded pause', async () => {
    const config = { ...defaultConfig(), auto_resume: false };
    let pause: RunState['pause'];
    const stops: string[] = [];
    const quiet = { debug() {}, info() {}, warn() {}, error() {}, file: undefined, close: async () => undefined };
    const now = Date.parse('2026-11-30T16:00:00.000Z');
    const resetsAt = Date.parse('2026-11-30T16:23:27.000Z');
    const pauses = new PauseController(
      { config, logger: quiet, state: () => ({ ...(pause ? { pause } : {}) }), record: (e) => (pause = e.type === 'paused' ? { until: e.until, reason: e.reason } : undefined) },
      (reason) => stops.push(reason),
      { now: () => now, sleep: async () => undefined },
    );
    const usage = { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
    const result = { ok: false, failure: { kind: 'usage_limit' as const, message: 'limit' }, resetsAt, exitCode: 1, numTurns: 0, costUsd: 0, usage, durationMs: 0, isError: true, permissionDenials: [], malformedLines: 0 };

    expect(await pauses.pauseFor('1A', result, 1, new AbortController().signal)).toBe(false);

    const until = pauses.until()!;
    expect(pause!.until).toBe(new Date(until).toISOString());
    expect(stops).toHaveLength(1);
    expect(stops[0]).toContain(`until ${localDateTime(until)} (auto_resume is off)`);
    expect(stops[0]).toMatch(/until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d /);
    expect(stops[0]).not.toContain(new Date(until).toISOString());
  });
});
