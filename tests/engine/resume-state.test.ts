import { describe, expect, it } from 'vitest';
import { resumedState, withJournalBookings, withoutAgentPids } from '../../src/run/resume-state.js';
import type { TaskLog } from '../../src/state/journal.js';
import { emptyUsage, type RunState, type TaskRecord } from '../../src/state/run-state.js';

function task(id: string, extra: Partial<TaskRecord> = {}): TaskRecord {
  return { id, stage: 1, title: `Task ${id}`, status: 'pending', branch: `orchestrator/${id}`, worktree: `wt/${id}`, attempts: 0, turns: 0, costUsd: 0, usage: emptyUsage(), durationMs: 0, transcripts: [], ...extra };
}

function previous(): RunState {
  return {
    version: 1,
    runId: 'r1',
    status: 'interrupted',
    startedAt: 's',
    updatedAt: 's',
    finishedAt: 'f',
    targetBranch: 'main',
    targetStartSha: 'a'.repeat(40),
    integrationBranch: 'main',
    selected: ['1A', '1B', '1C'],
    stages: [{ stage: 1, status: 'running', baseSha: 'a'.repeat(40) }],
    tasks: {
      '1A': task('1A', { status: 'done', branch: 'main', worktree: '../elsewhere' }),
      '1B': task('1B', { status: 'failed', reason: 'crashed', phase: 'agent', sessionId: 's1', agentPid: 4242, agentStart: '77' }),
      '1C': task('1C', { status: 'skipped', reason: 'dependency 1B failed' }),
    },
    logDir: 'logs/run-r1',
  };
}

const config = { worktrees: { branch_prefix: 'mo/' } } as never;

describe('resumedState', () => {
  it('never changes the state it was given', () => {
    const prev = previous();
    const text = JSON.stringify(prev);
    resumedState(prev, { selected: ['1B'], config, repoRoot: '/repo', worktreeDir: '/repo/.wt' });
    expect(JSON.stringify(prev)).toBe(text);
  });

  it('puts every selected task that is not done back to pending, keeping its session; the rest as they were', () => {
    const state = resumedState(previous(), { selected: ['1A', '1B'], config, repoRoot: '/repo', worktreeDir: '/repo/.wt' });
    expect(state.tasks['1A']!.status).toBe('done');
    expect(state.tasks['1B']).toMatchObject({ status: 'pending', sessionId: 's1' });
    expect(state.tasks['1B']!.reason).toBeUndefined();
    expect(state.tasks['1B']!.phase).toBeUndefined();
    expect(state.tasks['1C']).toMatchObject({ status: 'skipped', reason: 'dependency 1B failed' });
    expect(state.selected).toEqual(['1A', '1B']);
  });

  it('takes branch, worktree and integration branch names from the configuration, never from the file', () => {
    const state = resumedState(previous(), { selected: ['1B'], config, repoRoot: '/repo', worktreeDir: '/repo/.wt' });
    expect(state.tasks['1A']).toMatchObject({ branch: 'mo/1A', worktree: '.wt/1A' });
    expect(state.integrationBranch).toBe('mo/integration');
    const none = resumedState({ ...previous(), integrationBranch: undefined } as RunState, { selected: [], config, repoRoot: '/repo', worktreeDir: '/repo/.wt' });
    expect(none.integrationBranch).toBeUndefined();
  });
});

describe('withJournalBookings / withoutAgentPids', () => {
  it("takes a task's calls, cost, turns and tokens from the journal, which may be ahead of the state file", () => {
    const log = { steps: new Map(), calls: 3, costUsd: 1.5, turns: 9, usage: { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 3, cacheCreationInputTokens: 4 } } as TaskLog;
    const prev = previous();
    const state = withJournalBookings(prev, { tasks: new Map([['1B', log], ['9Z', log], ['1C', { ...log, calls: 0 }]]) });
    expect(state.tasks['1B']).toMatchObject({ attempts: 3, costUsd: 1.5, turns: 9, usage: log.usage });
    expect(state.tasks['1C']).toBe(prev.tasks['1C']);
    expect(prev.tasks['1B']!.attempts).toBe(0);
    expect(withJournalBookings(prev, { tasks: new Map() })).toBe(prev);
  });

  it('drops the recorded agent processes', () => {
    const prev = previous();
    const state = withoutAgentPids(prev);
    expect('agentPid' in state.tasks['1B']!).toBe(false);
    expect('agentStart' in state.tasks['1B']!).toBe(false);
    expect(prev.tasks['1B']!.agentPid).toBe(4242);
  });
});
