import { describe, expect, it } from 'vitest';
import { summarizeRun } from '../../src/cli/summary.js';
import { reopenDependents } from '../../src/state/reopen-dependents.js';
import { emptyUsage, type RunState, type TaskRecord } from '../../src/state/run-state.js';

function task(id: string, status: TaskRecord['status'], reason?: string): TaskRecord {
  return { id, stage: Number(id[0]), title: `Task ${id}`, status, ...(reason ? { reason } : {}), branch: `milestone/${id}`, worktree: `w/${id}`, attempts: 0, turns: 0, costUsd: 0, usage: emptyUsage(), durationMs: 0, transcripts: [] };
}

function run(tasks: TaskRecord[]): RunState {
  return {
    version: 1, runId: 'r1', status: 'failed', startedAt: '2026-11-30T10:00:00.000Z', updatedAt: '2026-11-30T10:00:00.000Z',
    targetBranch: 'main', targetStartSha: 'a'.repeat(40), selected: tasks.map((t) => t.id), stages: [], logDir: 'logs/run-r1',
    tasks: Object.fromEntries(tasks.map((t) => [t.id, t])),
  };
}

// 1A and 1B; 2A needs 1A; 3A needs 2A (skipped via 2A); 2B needs 1A and 1B.
const deps = new Map<string, string[]>([['2A', ['1A']], ['3A', ['2A']], ['2B', ['1A', '1B']]]);

describe('after accept, the tasks skipped for its failure', () => {
  it('are pending (not run yet) once none of their dependencies, direct or indirect, is failed or needs attention', () => {
    const state = run([
      task('1A', 'done'),
      task('1B', 'failed', 'checks failed'),
      task('2A', 'skipped', 'dependency 1A needs attention'),
      task('3A', 'skipped', 'dependency 1A needs attention (via 2A)'),
      task('2B', 'skipped', 'dependency 1A needs attention'),
    ]);
    expect(reopenDependents(state, deps)).toEqual(['2A', '3A']);
    expect(state.tasks['2A']).toMatchObject({ status: 'pending' });
    expect(state.tasks['2A']!.reason).toBeUndefined();
    expect(state.tasks['3A']).toMatchObject({ status: 'pending' });
    // 1B still failed: 2B stays skipped, with its reason.
    expect(state.tasks['2B']).toMatchObject({ status: 'skipped', reason: 'dependency 1A needs attention' });
  });

  it('a task skipped for another cause (a stop) is left as it is', () => {
    const state = run([task('1A', 'done'), task('2A', 'skipped', 'run stopped: budget spent')]);
    expect(reopenDependents(state, deps)).toEqual([]);
    expect(state.tasks['2A']).toMatchObject({ status: 'skipped' });
  });

  it('the summary says such a task is not run yet, not skipped', () => {
    const state = run([task('1A', 'done'), task('2A', 'skipped', 'dependency 1A failed')]);
    reopenDependents(state, deps);
    const text = summarizeRun({ ...state, status: 'stopped', message: 'not run yet: 2A; continue with orchestrate --resume' }, '/repo');
    expect(text).toMatch(/^ {2}2A {2}pending +not run yet$/m);
    expect(text).not.toContain('dependency 1A failed');
  });
});
