import { describe, expect, it } from 'vitest';
import { checkTaskAction } from '../../src/cli/commands/task-action.js';
import { summarizeRun } from '../../src/cli/summary.js';
import { orchestratorDataDir } from '../../src/config/data-dir.js';
import { attentionOf, continueCommand, retryFeedback } from '../../src/report/attention.js';
import { excludePatterns } from '../../src/run/engine.js';
import { emptyUsage, type RunState, type TaskRecord } from '../../src/state/run-state.js';

function task(over: Partial<TaskRecord> = {}): TaskRecord {
  return { id: '1B', stage: 1, title: 'T', status: 'needs_attention', branch: 'milestone/1B', worktree: '../wt/1B', attempts: 2, turns: 3, costUsd: 0.1, usage: emptyUsage(), durationMs: 1, transcripts: [], ...over };
}

describe('attention details', () => {
  it('quotes what the shell would split in the continue command', () => {
    expect(continueCommand('/home/me/wt/1B', 'abc-123')).toBe('cd /home/me/wt/1B && claude --resume abc-123');
    expect(continueCommand("/tmp/my repo's wt/1B", 'abc')).toBe("cd '/tmp/my repo'\\''s wt/1B' && claude --resume abc");
    expect(continueCommand('/x', '$(rm -rf ~)')).toBe("cd /x && claude --resume '$(rm -rf ~)'");
    expect(continueCommand('/wt/1B', 'abc', "/logs/run 1/1B.settings.json")).toBe("cd /wt/1B && claude --resume abc --settings '/logs/run 1/1B.settings.json'");
  });

  it('resolves recorded paths against the repository, or takes the derived worktree', () => {
    const t = task({ sessionId: 's', transcripts: ['../logs/1B.agent-1.jsonl', '../logs/1B.review-2.jsonl'] });
    expect(attentionOf(t, '/repo')).toMatchObject({ worktree: '/wt/1B', transcript: '/logs/1B.agent-1.jsonl', continueCommand: 'cd /wt/1B && claude --resume s' });
    expect(attentionOf(t, '/repo', '/derived/1B').worktree).toBe('/derived/1B');
    expect(attentionOf(task(), '/repo')).toMatchObject({ sessionId: null, continueCommand: null, transcript: null, rounds: [] });
  });

  it('gives retry the last round: failed checks with output and the findings; else the reason', () => {
    const t = task({
      rounds: [
        { round: 1, at: '', checks: [], verdict: 'request_changes', summary: 'old', findings: [{ severity: 'minor', message: 'old finding' }], reviewCostUsd: 0 },
        { round: 2, at: '', checks: [{ command: 'npm test', ok: false, exitCode: 2, timedOut: false, durationMs: 1, outputTail: 'FAIL a.test.js\n' }], verdict: 'request_changes', summary: 'Tests fail.', findings: [{ severity: 'blocker', file: 'a.js', line: 4, message: 'off by one' }], reviewCostUsd: 0 },
      ],
    });
    const text = retryFeedback(t);
    expect(text).toContain('- `npm test` exited with 2:\n```\nFAIL a.test.js\n```');
    expect(text).toContain('The reviewer requested changes: Tests fail.');
    expect(text).toContain('- [blocker] a.js:4 off by one');
    expect(text).not.toContain('old finding');
    expect(retryFeedback(task({ status: 'failed', reason: 'crashed: exit 1' }))).toBe('The last attempt ended with: crashed: exit 1');
  });
});

describe('accept and retry refusals', () => {
  const state = { tasks: { '1A': task({ id: '1A', status: 'done' }), '1B': task() } } as unknown as RunState;
  it('knows ids case-insensitively and only acts on tasks that need attention or failed', () => {
    expect(checkTaskAction(undefined, '1A')).toEqual({ ok: false, refusal: { kind: 'no_run' } });
    expect(checkTaskAction(state, '1b')).toMatchObject({ ok: true, task: { id: '1B' } });
    expect(checkTaskAction(state, '9Z')).toEqual({ ok: false, refusal: { kind: 'unknown_task', id: '9Z', known: ['1A', '1B'] } });
    expect(checkTaskAction(state, '1A')).toEqual({ ok: false, refusal: { kind: 'wrong_status', id: '1A', status: 'done' } });
  });
});

describe("the orchestrator's places", () => {
  it('default outside the repository: one folder per repository path under XDG_CACHE_HOME (a relative one is ignored)', () => {
    const a = orchestratorDataDir('/src/app', { XDG_CACHE_HOME: '/cache' }, '/home/me');
    expect(a).toMatch(/^\/cache\/milestone-orchestrator\/app-[0-9a-f]{8}$/);
    expect(orchestratorDataDir('/src/app', { XDG_CACHE_HOME: '/cache' }, '/home/me')).toBe(a);
    expect(orchestratorDataDir('/other/app', { XDG_CACHE_HOME: '/cache' }, '/home/me')).not.toBe(a);
    expect(orchestratorDataDir('/src/app', { XDG_CACHE_HOME: 'rel/cache' }, '/home/me')).toMatch(/^\/home\/me\/\.cache\/milestone-orchestrator\/app-/);
    expect(orchestratorDataDir('/src/my app!', {}, '/home/me')).toMatch(/\/my_app_-[0-9a-f]{8}$/);
  });

  it('are excluded from git status only when inside the working tree', () => {
    expect(excludePatterns('/repo', ['/repo/.worktree', '/repo/.orchestrator', '/home/me/.cache/x/logs', '/repo', '/repo-other/logs', '/repo/..cache'])).toEqual(['/.worktree/', '/.orchestrator/', '/..cache/']);
  });
});

describe('the summary after accept or retry', () => {
  it('names what the run still owes when the accepted or retried task completed it', () => {
    const state = { runId: 'r', status: 'completed', logDir: 'logs/run-r', tasks: { '1A': task({ id: '1A', status: 'done', merged: true }), '1C': task({ id: '1C', status: 'failed', reason: 'crashed' }) } } as unknown as RunState;
    expect(summarizeRun(state, '/repo')).toContain('Not done yet: 1C (failed). Continue with: orchestrate --resume');
    state.tasks['1C']!.status = 'done';
    expect(summarizeRun(state, '/repo')).not.toContain('Not done yet');
  });
});
