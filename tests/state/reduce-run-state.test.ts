import { describe, expect, it } from 'vitest';
import { reduceRunState } from '../../src/state/reduce-run-state.js';
import type { RunStateEvent } from '../../src/state/run-events.js';
import { emptyUsage, type RunState, type TaskRecord } from '../../src/state/run-state.js';

function task(id: string, stage: number, extra: Partial<TaskRecord> = {}): TaskRecord {
  return { id, stage, title: `Task ${id}`, status: 'pending', branch: `orchestrator/${id}`, worktree: `wt/${id}`, attempts: 0, turns: 0, costUsd: 0, usage: emptyUsage(), durationMs: 0, transcripts: [], ...extra };
}

function baseState(): RunState {
  return {
    version: 1,
    runId: 'r1',
    status: 'running',
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    targetBranch: 'main',
    targetStartSha: 'a'.repeat(40),
    selected: ['1A', '1B', '2A'],
    stages: [
      { stage: 1, status: 'pending', baseSha: 'a'.repeat(40) },
      { stage: 2, status: 'pending' },
    ],
    tasks: { '1A': task('1A', 1), '1B': task('1B', 1), '2A': task('2A', 2) },
    logDir: 'logs/run-r1',
    message: 'stopped before',
    finishedAt: '2026-01-01T01:00:00.000Z',
  };
}

function freezeDeep<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) freezeDeep(child);
  }
  return value;
}

function reduceAll(state: RunState, events: RunStateEvent[]): RunState {
  return events.reduce(reduceRunState, state);
}

const usage = { inputTokens: 10, outputTokens: 20, cacheReadInputTokens: 3, cacheCreationInputTokens: 4 };

/** One of every event kind, in an order a run could produce them. */
const everyEvent: RunStateEvent[] = [
  { type: 'run-started', resumed: false, tasks: ['1A'], maxParallel: 2 },
  { type: 'schedule-changed', tasks: [{ id: '1A', status: 'running' }], startedStages: [1] },
  { type: 'resource-wait', task: '1B', reasons: ['memory'], at: '2026-01-01T00:00:01.000Z' },
  { type: 'resource-wait-cleared' },
  { type: 'attempt-started', task: '1A', at: '2026-01-01T00:00:02.000Z' },
  { type: 'phase-changed', task: '1A', phase: 'setup' },
  { type: 'worktree-ready', task: '1A', baseSha: 'a'.repeat(40), worktree: 'wt/1A' },
  { type: 'agent-call-started', task: '1A', attempt: 1, transcript: 'logs/1A.agent-1.jsonl' },
  { type: 'agent-spawned', task: '1A', pid: 42, start: '123' },
  { type: 'worker-session', task: '1A', sessionId: 's1' },
  { type: 'paused', until: '2026-01-01T02:00:00.000Z', reason: 'limit' },
  { type: 'pause-cleared' },
  { type: 'agent-exited', task: '1A' },
  { type: 'agent-call-finished', task: '1A', costUsd: 0.5, usage, turns: 3, sandboxRefusals: 1, workerSessionId: 's1' },
  { type: 'retry-feedback-given', task: '1A' },
  { type: 'committed', task: '1A', headSha: 'b'.repeat(40), commits: 1 },
  { type: 'rounds-reset', task: '1A' },
  { type: 'round-started', task: '1A', round: 1, at: '2026-01-01T00:00:03.000Z' },
  { type: 'checks-recorded', task: '1A', round: 1, checks: [{ command: 'npm test', ok: true, exitCode: 0, timedOut: false, durationMs: 5 }] },
  { type: 'review-recorded', task: '1A', round: 1, reviewCostUsd: 0.1, verdict: { verdict: 'approve', summary: 'fine', findings: [] } },
  { type: 'worktree-reset', task: '1A' },
  { type: 'attempt-ended', task: '1A', durationMs: 1000, at: '2026-01-01T00:00:04.000Z' },
  { type: 'schedule-changed', tasks: [{ id: '1A', status: 'done' }], startedStages: [1] },
  { type: 'stage-merging', stage: 1 },
  { type: 'conflict-resolved', task: '1A' },
  { type: 'stage-merged', stage: 1, mergedSha: 'c'.repeat(40), merged: ['1A'] },
  { type: 'target-advanced', stage: 1, sha: 'c'.repeat(40), branch: 'orchestrator/integration', merged: ['1A'], integrationBranch: 'orchestrator/integration' },
  { type: 'stage-settled', stage: 1, status: 'merged' },
  { type: 'stage-merge-failed', stage: 2, note: 'merge conflict: x' },
  { type: 'run-finished', status: 'completed', at: '2026-01-01T03:00:00.000Z' },
];

describe('reduceRunState', () => {
  it('never changes its input: every kind of event applies to a deep-frozen state', () => {
    let state = freezeDeep(baseState());
    const copy = JSON.stringify(state);
    for (const event of everyEvent) {
      const before = state;
      const beforeText = JSON.stringify(before);
      state = freezeDeep(reduceRunState(before, event));
      expect(JSON.stringify(before)).toBe(beforeText);
    }
    expect(copy).not.toBe(JSON.stringify(state));
  });

  it('shares what an event does not touch, and returns the same state for an event that changes nothing', () => {
    const state = baseState();
    const next = reduceRunState(state, { type: 'phase-changed', task: '1A', phase: 'agent' });
    expect(next.tasks['1B']).toBe(state.tasks['1B']);
    expect(next.stages).toBe(state.stages);
    expect(reduceRunState(state, { type: 'phase-changed', task: '9Z', phase: 'agent' })).toBe(state);
    expect(reduceRunState(state, { type: 'stage-merging', stage: 7 })).toBe(state);
    expect(reduceRunState(state, { type: 'pause-cleared' })).toBe(state);
    expect(reduceRunState(state, { type: 'schedule-changed', tasks: [{ id: '1A', status: 'pending' }], startedStages: [] })).toBe(state);
  });

  it('takes each task status and reason from the scheduler, keeping why a task went back to pending', () => {
    let state = reduceRunState(baseState(), { type: 'schedule-changed', tasks: [{ id: '1A', status: 'running' }, { id: '2A', status: 'pending' }], startedStages: [1] });
    expect(state.tasks['1A']!.status).toBe('running');
    expect(state.stages.map((s) => s.status)).toEqual(['running', 'pending']);
    state = reduceRunState(state, { type: 'schedule-changed', tasks: [{ id: '1A', status: 'failed', reason: 'agent crashed' }, { id: '2A', status: 'skipped', reason: 'dependency 1A failed' }], startedStages: [1] });
    expect(state.tasks['1A']).toMatchObject({ status: 'failed', reason: 'agent crashed' });
    expect(state.tasks['2A']).toMatchObject({ status: 'skipped', reason: 'dependency 1A failed' });
    state = reduceRunState(state, { type: 'schedule-changed', tasks: [{ id: '1A', status: 'pending' }], startedStages: [1] });
    expect(state.tasks['1A']).toMatchObject({ status: 'pending', reason: 'agent crashed' });
    state = reduceRunState(state, { type: 'schedule-changed', tasks: [{ id: '1A', status: 'running' }], startedStages: [1, 2] });
    expect(state.tasks['1A']!.reason).toBeUndefined();
    expect(state.stages.map((s) => s.status)).toEqual(['running', 'running']);
  });

  it('books every finished agent call once, adding cost, tokens, turns and sandbox refusals', () => {
    const call: RunStateEvent = { type: 'agent-call-finished', task: '1A', costUsd: 0.25, usage, turns: 2, sandboxRefusals: 1 };
    const state = reduceAll(baseState(), [call, call, { type: 'agent-call-finished', task: '1A', costUsd: 0, usage: emptyUsage(), turns: 0, workerSessionId: 's9' }]);
    expect(state.tasks['1A']).toMatchObject({ costUsd: 0.5, turns: 4, sandboxRefusals: 2, sessionId: 's9', usage: { inputTokens: 20, outputTokens: 40, cacheReadInputTokens: 6, cacheCreationInputTokens: 8 } });
    expect(state.tasks['1B']!.costUsd).toBe(0);
  });

  it('numbers agent calls and keeps their transcripts; the pid lives from spawn to exit', () => {
    let state = reduceAll(baseState(), [
      { type: 'agent-call-started', task: '1A', attempt: 3, transcript: 't3' },
      { type: 'agent-spawned', task: '1A', pid: 7, start: '99' },
    ]);
    expect(state.tasks['1A']).toMatchObject({ attempts: 3, transcripts: ['t3'], agentPid: 7, agentStart: '99' });
    state = reduceRunState(state, { type: 'agent-exited', task: '1A' });
    expect(state.tasks['1A']!.agentPid).toBeUndefined();
    expect('agentStart' in state.tasks['1A']!).toBe(false);
  });

  it('builds quality-gate rounds: checks, then a review with or without a verdict; a reset starts them over', () => {
    const check = { command: 'npm test', ok: false, exitCode: 1, timedOut: false, durationMs: 3, outputTail: 'boom' };
    let state = reduceAll(baseState(), [
      { type: 'round-started', task: '1A', round: 1, at: 't1' },
      { type: 'checks-recorded', task: '1A', round: 1, checks: [check] },
      { type: 'round-started', task: '1A', round: 2, at: 't2' },
      { type: 'review-recorded', task: '1A', round: 2, reviewCostUsd: 0.2, verdict: { verdict: 'request_changes', summary: 'no', findings: [{ severity: 'major', message: 'bad' }] } },
      { type: 'round-started', task: '1A', round: 3, at: 't3' },
      { type: 'review-recorded', task: '1A', round: 3, reviewCostUsd: 0.05 },
    ]);
    const rounds = state.tasks['1A']!.rounds!;
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    expect(rounds[0]).toMatchObject({ at: 't1', checks: [check], findings: [], reviewCostUsd: 0 });
    expect(rounds[1]).toMatchObject({ verdict: 'request_changes', summary: 'no', reviewCostUsd: 0.2 });
    expect(rounds[1]!.findings).toHaveLength(1);
    expect(rounds[2]!.verdict).toBeUndefined();
    expect(rounds[2]!.reviewCostUsd).toBe(0.05);
    state = reduceRunState(state, { type: 'rounds-reset', task: '1A' });
    expect(state.tasks['1A']!.rounds).toEqual([]);
  });

  it('keeps the first start of a task across attempts, adds up their time and ends the phase', () => {
    const state = reduceAll(baseState(), [
      { type: 'attempt-started', task: '1A', at: 'first' },
      { type: 'phase-changed', task: '1A', phase: 'review' },
      { type: 'attempt-ended', task: '1A', durationMs: 100, at: 'end1' },
      { type: 'attempt-started', task: '1A', at: 'second' },
      { type: 'attempt-ended', task: '1A', durationMs: 50, at: 'end2' },
    ]);
    expect(state.tasks['1A']).toMatchObject({ startedAt: 'first', durationMs: 150, finishedAt: 'end2' });
    expect(state.tasks['1A']!.phase).toBeUndefined();
  });

  it('a commit without a head keeps the recorded one', () => {
    const state = reduceAll(baseState(), [
      { type: 'committed', task: '1A', headSha: 'h1', commits: 2 },
      { type: 'committed', task: '1A', commits: 2 },
    ]);
    expect(state.tasks['1A']).toMatchObject({ headSha: 'h1', commits: 2 });
  });

  it('merges a stage: its merged tasks, its result as the next base, the integration branch when the target could not move', () => {
    const state = reduceAll(baseState(), [
      { type: 'stage-merging', stage: 1 },
      { type: 'stage-merged', stage: 1, mergedSha: 'm1', merged: ['1A'] },
      { type: 'target-advanced', stage: 1, sha: 'm1', branch: 'orchestrator/integration', merged: ['1A'], integrationBranch: 'orchestrator/integration' },
      { type: 'stage-settled', stage: 1, status: 'failed' },
    ]);
    expect(state.stages[0]).toMatchObject({ status: 'failed', mergedSha: 'm1' });
    expect(state.stages[1]!.baseSha).toBe('m1');
    expect(state.tasks['1A']!.merged).toBe(true);
    expect(state.tasks['1B']!.merged).toBeUndefined();
    expect(state.integrationBranch).toBe('orchestrator/integration');
    const conflicted = reduceRunState(baseState(), { type: 'stage-merge-failed', stage: 1, note: 'merge conflict: a.txt' });
    expect(conflicted.stages[0]).toMatchObject({ status: 'failed', note: 'merge conflict: a.txt' });
  });

  it('starts and finishes the run; a later pause replaces the earlier one, a resource wait keeps its start', () => {
    const started = reduceRunState(baseState(), { type: 'run-started', resumed: true, tasks: [], maxParallel: 1 });
    expect(started.status).toBe('running');
    expect(started.finishedAt).toBeUndefined();
    const finished = reduceRunState(started, { type: 'run-finished', status: 'completed', at: 'end' });
    expect(finished).toMatchObject({ status: 'completed', finishedAt: 'end' });
    expect(finished.message).toBeUndefined();
    expect(reduceRunState(started, { type: 'run-finished', status: 'stopped', at: 'end', message: 'why' }).message).toBe('why');
    const paused = reduceAll(started, [
      { type: 'paused', until: 'u1', reason: 'r1' },
      { type: 'paused', until: 'u2', reason: 'r2' },
    ]);
    expect(paused.pause).toEqual({ until: 'u2', reason: 'r2' });
    expect(reduceRunState(paused, { type: 'pause-cleared' }).pause).toBeUndefined();
    const waiting = reduceAll(started, [
      { type: 'resource-wait', task: '1A', reasons: ['cpu'], at: 'w1' },
      { type: 'resource-wait', task: '1A', reasons: ['memory'], at: 'w2' },
    ]);
    expect(waiting.resourceWait).toEqual({ task: '1A', reasons: ['memory'], since: 'w1' });
    expect(reduceRunState(waiting, { type: 'resource-wait-cleared' }).resourceWait).toBeUndefined();
  });
});
