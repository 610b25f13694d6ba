import { afterEach, describe, expect, it } from 'vitest';
import { localDateTime, localDateTimeOf } from '../../src/report/local-time.js';
import { renderTasksBlock } from '../../src/report/tasks-md.js';
import { emptyUsage, type RunState } from '../../src/state/run-state.js';

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('times for people: local, with the UTC offset', () => {
  it('shows the local wall-clock time and the offset, half-hour zones and daylight saving included', () => {
    process.env.TZ = 'Asia/Kolkata';
    expect(localDateTime(Date.parse('2026-11-30T23:45:06Z'))).toBe('2026-12-01 05:15:06 +05:30');
    process.env.TZ = 'America/St_Johns';
    expect(localDateTime(Date.parse('2026-01-15T12:00:00Z'))).toBe('2026-01-15 08:30:00 -03:30');
    expect(localDateTime(Date.parse('2026-07-15T12:00:00Z'))).toBe('2026-07-15 09:30:00 -02:30');
    process.env.TZ = 'UTC';
    expect(localDateTime(Date.parse('2026-07-15T12:00:00Z'))).toBe('2026-07-15 12:00:00 +00:00');
  });

  it('a value that is not a time is shown as it is', () => {
    expect(localDateTimeOf('now')).toBe('now');
  });

  it('TASKS.md uses it for the update time, a pause and a resource wait (not ISO UTC)', () => {
    process.env.TZ = 'Europe/Berlin';
    const state: RunState = {
      version: 1,
      runId: 'r1',
      status: 'paused',
      startedAt: '2026-11-30T10:00:00.000Z',
      updatedAt: '2026-11-30T10:05:00.000Z',
      targetBranch: 'main',
      targetStartSha: 'a'.repeat(40),
      selected: ['1A'],
      stages: [{ stage: 1, status: 'running' }],
      tasks: { '1A': { id: '1A', stage: 1, title: 'T', status: 'pending', branch: 'milestone/1A', worktree: 'w/1A', attempts: 0, turns: 0, costUsd: 0, usage: emptyUsage(), durationMs: 0, transcripts: [] } },
      pause: { until: '2026-11-30T12:00:00.000Z', reason: 'usage limit' },
      resourceWait: { task: '1A', reasons: ['load 9'], since: '2026-11-30T10:04:00.000Z' },
      logDir: 'logs/run-r1',
    };
    const block = renderTasksBlock(state);
    expect(block).toContain('_Updated 2026-11-30 11:05:00 +01:00_');
    expect(block).toContain('Paused until 2026-11-30 13:00:00 +01:00: usage limit');
    expect(block).toContain('Holding 1A since 2026-11-30 11:04:00 +01:00: load 9');
    expect(block).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
  });
});
