import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Window } from 'happy-dom';
import { BEGIN_MARKER, END_MARKER, renderGantt, renderTasksBlock, spliceBlock } from '../../src/report/tasks-md.js';
import { emptyUsage, type RunState, type TaskRecord } from '../../src/state/run-state.js';

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
      '1C': { id: '1C', stage: 1, title: 'Skipped one', status: 'skipped', reason: 'its dependency 1B failed', branch: 'milestone/1C', worktree: '.worktree/1C', attempts: 0, turns: 0, costUsd: 0, usage: emptyUsage(), durationMs: 0, transcripts: [] },
    },
    logDir: 'logs/run-r1',
  };
}

describe('TASKS.md', () => {
  it('renders a six-column row per task, with — for what a task does not have', () => {
    const block = renderTasksBlock(state());
    expect(block.startsWith(BEGIN_MARKER)).toBe(true);
    expect(block.endsWith(END_MARKER)).toBe(true);
    expect(block).toContain('| Task | Title | Status | Rounds | Cost | Time |\n|---|---|---|---|---|---|');
    expect(block).toContain('| 1A | Pipes \\| in title | ✅ done | 2 (approve) | $0.1250 | 1m 5s |');
    expect(block).toContain('| 1B | Second | ❌ failed | — | $0.0000 | — |');
    expect(block).toContain('| 1C | Skipped one | ⏭️ skipped | — | — | — |');
    expect(block).toContain('1/3 tasks done');
    for (const row of block.split('\n').filter((l) => l.startsWith('| 1'))) expect(row.split(' | ')).toHaveLength(6);
  });

  it('lists reasons, review findings, failed checks and how to go on under the table', () => {
    const s = state();
    s.tasks['1B'] = {
      ...s.tasks['1B']!,
      status: 'needs_attention',
      reason: 'not approved after 2 rounds: review: request_changes (tests missing)',
      sessionId: 'sess-1234',
      transcripts: ['logs/run-r1/1B.agent-1.jsonl', 'logs/run-r1/1B.review-2.jsonl', 'logs/run-r1/1B.agent-3.jsonl', 'logs/run-r1/1B.review-4.jsonl'],
      rounds: [
        { round: 1, at: 'x', checks: [{ command: 'npm test', ok: false, exitCode: 1, timedOut: false, durationMs: 5, outputTail: 'FAIL x' }], findings: [], reviewCostUsd: 0 },
        { round: 2, at: 'y', checks: [], verdict: 'request_changes', summary: 'tests missing', findings: [{ severity: 'major', file: 'src/a.ts', line: 12, message: 'no test\nfor this' }], reviewCostUsd: 0.01 },
      ],
    };
    const block = renderTasksBlock(s, '/repo');
    expect(block).toContain('- **1B** ⚠️ needs attention: not approved after 2 rounds: review: request_changes (tests missing)');
    expect(block).toContain('  - round 1: checks failed\n    - check `npm test` exited with 1');
    expect(block).toContain('  - round 2: review request_changes — tests missing\n    - major `src/a.ts:12`: no test for this');
    expect(block).toContain('  - worktree `/repo/.worktree/1B` (branch `milestone/1B`), transcript `/repo/logs/run-r1/1B.agent-3.jsonl`');
    expect(block).toContain("  - continue the agent's session by hand: `cd /repo/.worktree/1B && claude --resume sess-1234`");
    expect(block).toContain('`orchestrate accept 1B`');
    expect(block).toContain('`orchestrate retry 1B`');
    expect(block).toContain('- **1C** ⏭️ skipped: its dependency 1B failed');
    expect(block).not.toContain('- **1A**'); // done: nothing to say
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

/**
 * The chart is checked with Mermaid's own gantt parser: `mermaid.parse` for the syntax, then the parsed diagram's
 * task dates. Mermaid's sanitizer (DOMPurify) needs a DOM, so a happy-dom window is installed first.
 */
describe('TASKS.md Gantt chart, read by Mermaid', () => {
  let window: Window;
  type GanttTask = { id: string; task: string; startTime: Date; endTime: Date; section: string };
  let ganttTasks: (chart: string) => Promise<GanttTask[]>;

  beforeAll(async () => {
    window = new Window();
    Object.assign(globalThis, { window, document: window.document });
    const mermaid = (await import('mermaid')).default;
    ganttTasks = async (chart) => {
      await mermaid.parse(chart); // throws on a syntax error
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(chart);
      return (diagram.db as unknown as { getTasks: () => GanttTask[] }).getTasks();
    };
  }, 60_000);
  afterAll(async () => {
    await window.happyDOM.close();
  });

  const body = (markdown: string) => markdown.replace(/^```mermaid\n/, '').replace(/\n```$/, '');

  it('puts each bar at the run\'s real times, and pending stages after it', async () => {
    const s = state();
    s.status = 'stopped';
    s.updatedAt = '2026-01-01T00:02:00.000Z';
    s.stages.push({ stage: 2, status: 'pending' });
    const pending: TaskRecord = { id: '2A', stage: 2, title: 'Later: work; #1', status: 'pending', branch: 'milestone/2A', worktree: '.worktree/2A', attempts: 0, turns: 0, costUsd: 0, usage: emptyUsage(), durationMs: 0, transcripts: [], estimateMinutes: 90 };
    s.tasks['2A'] = pending;
    const tasks = await ganttTasks(body(renderGantt(s)!));
    const byId = new Map(tasks.map((t) => [t.id, t]));
    expect(byId.get('t1A')!.startTime.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(byId.get('t1A')!.endTime.toISOString()).toBe('2026-01-01T00:01:05.000Z');
    expect(byId.get('t1A')!.section).toBe('Stage 1');
    expect(byId.has('t1B')).toBe(false); // never started, stage 1 is over
    expect(byId.has('t1C')).toBe(false); // skipped: never runs
    // Not started: drawn from now (after stage 1), as long as its estimate.
    expect(byId.get('t2A')!.startTime.toISOString()).toBe('2026-01-01T00:02:00.000Z');
    expect(byId.get('t2A')!.endTime.toISOString()).toBe('2026-01-01T01:32:00.000Z');
    expect(byId.get('t2A')!.section).toBe('Stage 2 (pending)');
    expect(byId.get('t2A')!.task.trim()).toBe('2A Later work 1');
  });

  it('a running task ends at the last update', async () => {
    const s = state();
    s.tasks['1A'] = { ...s.tasks['1A']!, status: 'running', finishedAt: undefined as unknown as string };
    delete s.tasks['1A']!.finishedAt;
    s.updatedAt = '2026-01-01T00:00:30.000Z';
    const [bar] = await ganttTasks(body(renderGantt(s)!));
    expect(bar!.endTime.toISOString()).toBe('2026-01-01T00:00:30.000Z');
  });
});
