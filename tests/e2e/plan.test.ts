import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { milestone } from '../support/engine-fixture.js';
import { taskWorktree } from '../support/paths.js';
import { readState, sessionHeader, setupE2E, sumUsage, tasksMdRow, transcriptResult, turnsOf, unexpected, usage, view, type E2E, type OrchestratorResult, type Usage } from './harness.js';

/**
 * A whole plan with the real claude CLI: stage 1 runs 1A and 1B in parallel, stage 2's 2A needs both and must find
 * their merged files in its worktree. 3 agent processes.
 */

const PLAN = {
  '1A': milestone('1A'),
  '1B': milestone('1B'),
  '2A': milestone('2A', { deps: ['1A', '1B'] }),
};

/** Which usage each scripted reply carries, per task, in order. */
const USAGE: Record<string, Usage[]> = {
  '1A': [usage(1), usage(2), usage(3)],
  '1B': [usage(4), usage(5), usage(6)],
  '2A': [usage(7), usage(8), usage(9)],
};

/** Stage 1 tasks: write a file, commit it with git through the Bash tool (allowed by the default allowed_tools), finish. */
function stageOneRules(id: string) {
  const mine = `milestone ${id}:`;
  const [u0, u1, u2] = USAGE[id]!;
  return [
    {
      name: `${id}-write`,
      match: { conversation: mine, turn: 0 },
      reply: { text: `Creating ${id}.txt.`, tool_use: { name: 'Write', input: { file_path: `{{cwd}}/${id}.txt`, content: `made by ${id}\n` } }, usage: u0 },
    },
    {
      name: `${id}-commit`,
      match: { conversation: mine, turn: 1, last_user: 'File created successfully' },
      reply: { tool_use: { name: 'Bash', input: { command: `git add -A && git commit -m "${id}: add ${id}.txt"`, description: 'Commit the work' } }, usage: u1 },
    },
    // Only once git really committed (a denied Bash call would not print this).
    { name: `${id}-done`, match: { conversation: mine, turn: 2, last_user: '1 file changed' }, reply: { text: `${id} is done.`, usage: u2 } },
  ];
}

const SCENARIO = {
  rules: [
    ...stageOneRules('1A'),
    ...stageOneRules('1B'),
    {
      name: '2A-read',
      match: { conversation: 'milestone 2A:', turn: 0 },
      reply: {
        text: 'Reading what stage 1 produced.',
        tool_use: [
          { name: 'Read', input: { file_path: '{{cwd}}/1A.txt' } },
          { name: 'Read', input: { file_path: '{{cwd}}/1B.txt' } },
        ],
        usage: USAGE['2A']![0],
      },
    },
    {
      // Matches only if both files were in 2A's worktree, i.e. stage 1 was merged before stage 2 started.
      name: '2A-write',
      match: { conversation: 'milestone 2A:', turn: 1, last_user: { regex: 'made by 1A[\\s\\S]*made by 1B|made by 1B[\\s\\S]*made by 1A' } },
      reply: { tool_use: { name: 'Write', input: { file_path: '{{cwd}}/2A.txt', content: 'made by 2A on top of 1A and 1B\n' } }, usage: USAGE['2A']![1] },
    },
    // 2A leaves its change uncommitted: the orchestrator commits it.
    { name: '2A-done', match: { conversation: 'milestone 2A:', turn: 2, last_user: 'File created successfully' }, reply: { text: '2A is done.', usage: USAGE['2A']![2] } },
  ],
};

describe('e2e: a 2-stage plan with the real claude CLI', () => {
  let e2e: E2E;
  let result: OrchestratorResult;
  let state: any;

  beforeAll(async () => {
    // The agents commit with git themselves: the allow-list mode (the sandbox keeps .git read-only; there the
    // orchestrator commits, see sandbox.test.ts).
    e2e = await setupE2E({ milestones: PLAN, scenario: SCENARIO, config: { agent: { sandbox: false } } });
    result = await e2e.run();
    state = readState(e2e.repo.root);
  }, 90_000);
  afterAll(() => e2e?.cleanup());

  it('completes: every task done and merged, exit 0, nothing unscripted asked', () => {
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(unexpected(e2e.server)).toEqual([]);
    expect(state.status).toBe('completed');
    for (const id of Object.keys(PLAN)) {
      expect(state.tasks[id]).toMatchObject({ status: 'done', merged: true, attempts: 1, commits: 1 });
      expect(state.tasks[id].reason).toBeUndefined();
    }
  });

  it('ran each agent in its own worktree with exactly its scripted conversation', () => {
    for (const id of Object.keys(PLAN)) {
      const turns = turnsOf(e2e.server, id);
      expect(turns.map((r) => r.rule?.name)).toEqual(id === '2A' ? ['2A-read', '2A-write', '2A-done'] : [`${id}-write`, `${id}-commit`, `${id}-done`]);
      for (const r of turns) expect(view(r).cwd).toBe(taskWorktree(e2e.repo.root, id));
    }
  });

  it('merged stage 1 before stage 2 started from it; the agents\' own commits are on their branches', () => {
    const { git, root } = e2e.repo;
    // Stage 1's tasks started from the same base, stage 2 from stage 1's merge.
    expect(state.tasks['1A'].baseSha).toBe(state.stages[0].baseSha);
    expect(state.tasks['1B'].baseSha).toBe(state.stages[0].baseSha);
    expect(state.tasks['2A'].baseSha).toBe(state.stages[0].mergedSha);
    expect(git('log', '-1', '--format=%s', 'milestone/1A')).toBe('1A: add 1A.txt');
    expect(git('log', '-1', '--format=%s', 'milestone/1B')).toBe('1B: add 1B.txt');
    expect(git('log', '-1', '--format=%B', 'milestone/2A')).toMatch(/^2A: Task 2A\n\nWork left uncommitted by the agent/);
    expect(git('log', '--merges', '--first-parent', '--format=%s', 'main').split('\n').reverse()).toEqual([
      'Merge milestone 1A: Task 1A',
      'Merge milestone 1B: Task 1B',
      'Merge milestone 2A: Task 2A',
    ]);
    expect(git('rev-parse', 'main')).toBe(state.stages[1].mergedSha);
    // The user's working tree follows main and holds every file.
    for (const id of ['1A', '1B']) expect(readFileSync(path.join(root, `${id}.txt`), 'utf8')).toBe(`made by ${id}\n`);
    expect(readFileSync(path.join(root, '2A.txt'), 'utf8')).toBe('made by 2A on top of 1A and 1B\n');
  });

  it('records session ids, turns, tokens and cost exactly as the CLI and the server reported them', () => {
    const sessions = new Set<string>();
    for (const id of Object.keys(PLAN)) {
      const rec = state.tasks[id];
      // The session id the CLI sent to the server with every request of this task.
      const fromServer = new Set(turnsOf(e2e.server, id).map(sessionHeader));
      expect(fromServer.size).toBe(1);
      expect(rec.sessionId).toBe([...fromServer][0]);
      sessions.add(rec.sessionId);
      // num_turns as the CLI counted it (3 API calls; two parallel tool calls in one reply count as 2 turns).
      expect(rec.turns).toBe(id === '2A' ? 4 : 3);
      // Tokens: the sums of the usage the server put in its replies to this task.
      expect(rec.usage).toEqual(sumUsage(USAGE[id]!));
      // Cost: the CLI computes it; the orchestrator must carry the result line's number unchanged.
      expect(rec.transcripts).toHaveLength(1);
      const line = transcriptResult(e2e.repo.root, rec.transcripts[0]);
      expect(line, `no result line in ${rec.transcripts[0]}`).toBeDefined();
      expect(rec.costUsd).toBeGreaterThan(0);
      expect(rec.costUsd).toBe(line!.total_cost_usd);
      expect(line!.session_id).toBe(rec.sessionId);
      expect(line!.num_turns).toBe(rec.turns);
    }
    expect(sessions.size).toBe(3);
  });

  it('TASKS.md shows every task done, with the recorded numbers', () => {
    const tasksMd = readFileSync(path.join(e2e.repo.root, 'TASKS.md'), 'utf8');
    expect(tasksMd).toContain('**completed**');
    expect(tasksMd).toContain('3/3 tasks done');
    const total = sumUsage(Object.values(USAGE).flat());
    expect(tasksMd).toContain(`tokens ${total.inputTokens} in / ${total.outputTokens} out`);
    for (const id of Object.keys(PLAN)) {
      const rec = state.tasks[id];
      const row = tasksMdRow(tasksMd, id);
      expect(row).toContain('✅ done');
      expect(row).toContain(`$${rec.costUsd.toFixed(4)}`);
      // Its bar in the Gantt chart starts at the recorded start, in milliseconds (Mermaid's dateFormat x).
      expect(tasksMd).toContain(`:done, t${id}, ${Date.parse(rec.startedAt)}, `);
    }
    expect(existsSync(path.join(e2e.repo.root, state.logDir))).toBe(true);
  });
});
