import { describe, expect, it } from 'vitest';
import { summarizeRun } from '../../src/cli/summary.js';
import { reduceRunState } from '../../src/state/reduce-run-state.js';
import { emptyUsage, runTotals, type RunState } from '../../src/state/run-state.js';

function state(): RunState {
  return {
    version: 1, runId: 'r1', status: 'interrupted', startedAt: '2026-11-30T10:00:00.000Z', updatedAt: '2026-11-30T10:00:00.000Z',
    targetBranch: 'main', targetStartSha: 'a'.repeat(40), selected: ['1A', '1B'], stages: [], logDir: 'logs/run-r1',
    tasks: Object.fromEntries(['1A', '1B'].map((id) => [id, { id, stage: 1, title: id, status: 'pending' as const, branch: `milestone/${id}`, worktree: `w/${id}`, attempts: 0, turns: 0, costUsd: 0, usage: emptyUsage(), durationMs: 0, transcripts: [] }])),
  };
}

describe('agent time', () => {
  it('counts agent calls only: an attempt cut off during set-up (provisioning) adds task time, no agent time', () => {
    const s = reduceRunState(state(), { task: '1A', type: 'attempt-ended', durationMs: 2_000, at: '2026-11-30T10:00:02.000Z' });
    expect(runTotals(s)).toMatchObject({ durationMs: 2_000, agentMs: 0 });
    const text = summarizeRun(s, '/repo');
    expect(text).toMatch(/agent time —/);
    expect(text).not.toMatch(/agent time 2s/);
  });

  it('adds each agent call’s wall time, whichever task it ran for', () => {
    let s = state();
    const call = { type: 'agent-call-finished' as const, costUsd: 0.1, usage: emptyUsage(), turns: 1 };
    s = reduceRunState(s, { task: '1A', ...call, durationMs: 40_000 });
    s = reduceRunState(s, { task: '1B', ...call, durationMs: 25_000 });
    s = reduceRunState(s, { task: '1A', type: 'attempt-ended', durationMs: 90_000, at: '2026-11-30T10:01:30.000Z' });
    expect(runTotals(s)).toMatchObject({ agentMs: 65_000, durationMs: 90_000 });
    expect(summarizeRun(s, '/repo')).toMatch(/agent time 1m 5s/);
  });
});
