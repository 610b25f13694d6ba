import { describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER, renderTasksBlock, spliceBlock } from '../../src/report/tasks-md.js';
import { emptyUsage, type RunState } from '../../src/state/run-state.js';

function state(): RunState {
  return {
    version: 1,
    runId: 'r1',
    status: 'running',
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:01.000Z',
    targetBranch: 'main',
    targetStartSha: 'a'.repeat(40),
    selected: ['1A', '1B'],
    stages: [{ stage: 1, status: 'running', baseSha: 'a'.repeat(40) }],
    tasks: {
      '1A': { id: '1A', stage: 1, title: 'Pipes | in title', status: 'done', branch: 'milestone/1A', worktree: '.worktree/1A', attempts: 1, turns: 3, costUsd: 0.125, usage: { ...emptyUsage(), inputTokens: 10, outputTokens: 20 }, durationMs: 65_000, transcripts: [], headSha: 'b'.repeat(40), merged: true, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:05.000Z',
        rounds: [
          { round: 1, at: '2026-01-01T00:00:30.000Z', checks: [{ command: 'npm test', ok: true, exitCode: 0, timedOut: false, durationMs: 5 }], verdict: 'request_changes', summary: 's', findings: [], reviewCostUsd: 0.01 },
          { round: 2, at: '2026-01-01T00:01:00.000Z', checks: [{ command: 'npm test', ok: true, exitCode: 0, timedOut: false, durationMs: 5 }], verdict: 'approve', summary: 'ok', findings: [], reviewCostUsd: 0.01 },
        ] },
      '1B': { id: '1B', stage: 1, title: 'Second', status: 'failed', reason: 'agent crashed', branch: 'milestone/1B', worktree: '.worktree/1B', attempts: 1, turns: 0, costUsd: 0, usage: emptyUsage(), durationMs: 0, transcripts: [] },
    },
    logDir: 'logs/run-r1',
  };
}

describe('TASKS.md', () => {
  it('renders one row per task with status, cost, tokens and commit', () => {
    const block = renderTasksBlock(state());
    expect(block.startsWith(BEGIN_MARKER)).toBe(true);
    expect(block.endsWith(END_MARKER)).toBe(true);
    expect(block).toContain('| 1A | Pipes \\| in title | ✅ done | 2 (approve) | 1/1 passed | $0.1250 | 10/20 | 3 | 1m 5s | `milestone/1A` | `bbbbbbb` |');
    expect(block).toContain('❌ failed: agent crashed');
    expect(block).toContain('1/2 tasks done');
  });

  it('draws a Mermaid Gantt chart of the tasks that started', () => {
    const block = renderTasksBlock(state());
    expect(block).toContain('```mermaid\ngantt\n  title Run r1\n  dateFormat X');
    expect(block).toContain('  section Stage 1\n  1A Pipes | in title :done, t1A, 1767225600, 1767225665');
    expect(block).not.toContain('t1B'); // never started
  });

  it('keeps everything outside the markers byte for byte, CRLF included', () => {
    const before = '# My tasks\r\n\r\nNotes I wrote.\r\n';
    const after = 'Trailing notes\r\n';
    const first = spliceBlock(before, renderTasksBlock(state()));
    expect(first.startsWith(before)).toBe(true);
    const withTail = first + after;
    const second = spliceBlock(withTail, renderTasksBlock({ ...state(), status: 'completed' }));
    expect(second.startsWith(before)).toBe(true);
    expect(second.endsWith(`${END_MARKER}\r\n${after}`)).toBe(true);
    expect(second).toContain('**completed**');
    expect(second.split(BEGIN_MARKER)).toHaveLength(2);
  });
});
