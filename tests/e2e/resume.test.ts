import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../src/scripted-api/types.js';
import { isPidAlive } from '../../src/util/process.js';
import { milestone } from '../support/engine-fixture.js';
import { taskWorktree } from '../support/paths.js';
import {
  readState,
  sessionHeader,
  setupE2E,
  sumUsage,
  transcriptResult,
  turnsOf,
  unexpected,
  usage,
  view,
  waitForState,
  type E2E,
  type OrchestratorResult,
} from './harness.js';

/**
 * kill -9 of the orchestrator while the server holds the agent's second API request, then `--resume`: the same
 * Claude Code session continues (the CLI replays it) and the run completes. 2 agent processes.
 */

const RESUMED = 'You were interrupted before finishing milestone 1A';

const SCENARIO = {
  rules: [
    // The resumed session: commit what the first agent wrote before the crash, then finish.
    {
      name: 'resumed-commit',
      match: { last_user: RESUMED },
      reply: { tool_use: { name: 'Bash', input: { command: 'git add -A && git commit -m "1A: add 1A.txt"', description: 'Commit the work' } }, usage: usage(3) },
    },
    { name: 'resumed-done', match: { conversation: RESUMED, last_user: '1 file changed' }, reply: { text: '1A is done.', usage: usage(4) } },
    // The first run: write the file, then the next request is held until the connection drops.
    {
      name: 'write',
      match: { conversation: 'milestone 1A:', turn: 0 },
      reply: { tool_use: { name: 'Write', input: { file_path: '{{cwd}}/1A.txt', content: 'made by 1A\n' } }, usage: usage(1) },
    },
    { name: 'hang', times: 1, match: { conversation: 'milestone 1A:', turn: 1 }, reply: { fault: 'hang' } },
  ],
};

describe('e2e: kill -9 while an agent waits on the API, then --resume', () => {
  let e2e: E2E;
  let killed: any;
  let firstSession: string;
  let orphanPid: number;
  let orphanAliveAfterKill: boolean;
  let resumed: OrchestratorResult;
  let state: any;
  let resumedTurns: RecordedRequest[];

  beforeAll(async () => {
    // The agents commit with git themselves: the allow-list mode (the sandbox keeps .git read-only; there the
    // orchestrator commits, see sandbox.test.ts).
    e2e = await setupE2E({ milestones: { '1A': milestone('1A') }, scenario: SCENARIO, config: { agent: { sandbox: false } } });
    const first = e2e.start();
    const held = await e2e.waitForRequest((r) => r.rule?.name === 'hang', 60_000);
    firstSession = sessionHeader(held)!;
    // The orchestrator saves the session id as soon as the CLI announces it; wait until the file says so.
    killed = await waitForState(e2e.repo.root, (s) => s.tasks['1A']?.sessionId === firstSession && s.tasks['1A']?.agentPid > 0);
    orphanPid = killed.tasks['1A'].agentPid;
    first.kill('SIGKILL');
    await first;
    orphanAliveAfterKill = isPidAlive(orphanPid);
    resumed = await e2e.run(['--resume']);
    state = readState(e2e.repo.root);
    resumedTurns = turnsOf(e2e.server, '1A').filter((r) => view(r).conversationText.includes(RESUMED));
  }, 90_000);
  afterAll(() => e2e?.cleanup());

  it('was killed mid-task: running, in the agent phase, with the session recorded', () => {
    expect(killed.tasks['1A']).toMatchObject({ status: 'running', phase: 'agent', attempts: 1, sessionId: firstSession });
  });

  it('resume stops the agent the killed orchestrator left behind', () => {
    // kill -9 of the orchestrator does not reach claude (its own process group): it still waits on the server.
    expect(orphanAliveAfterKill).toBe(true);
    expect(resumed.stdout + resumed.stderr).toMatch(new RegExp(`stopped agent pid ${orphanPid}\\b`));
    expect(isPidAlive(orphanPid)).toBe(false);
  });

  it('continues the same claude session: the server saw the earlier conversation replayed', () => {
    expect(resumedTurns.map((r) => r.rule?.name)).toEqual(['resumed-commit', 'resumed-done']);
    const first = resumedTurns[0]!;
    expect(sessionHeader(first)).toBe(firstSession);
    const messages = (first.body as { messages: Array<{ role: string; content: unknown }> }).messages;
    const dialogue = messages.filter((m) => m.role === 'user' || m.role === 'assistant');
    // The original task prompt, the Write call the server scripted, and its result: all from the killed run.
    expect(JSON.stringify(dialogue[0])).toContain('You are working on milestone 1A: Task 1A');
    const worktree = taskWorktree(e2e.repo.root, '1A');
    expect(dialogue.some((m) => m.role === 'assistant' && JSON.stringify(m.content).includes(JSON.stringify(path.join(worktree, '1A.txt'))))).toBe(true);
    expect(view(first).conversationText).toContain('File created successfully');
    expect(view(first).lastUserText).toContain(RESUMED);
    expect(view(first).cwd).toBe(worktree);
  });

  it('completes the run, keeping the work done before the crash', () => {
    expect(resumed.stderr).not.toMatch(/internal error/);
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(unexpected(e2e.server)).toEqual([]);
    expect(state.status).toBe('completed');
    const rec = state.tasks['1A'];
    expect(rec).toMatchObject({ status: 'done', merged: true, attempts: 2, sessionId: firstSession, commits: 1 });
    expect(rec.transcripts).toHaveLength(2);
    // The killed attempt never reported; the resumed one's tokens are exactly what the server sent it.
    expect(rec.usage).toEqual(sumUsage([usage(3), usage(4)]));
    const line = transcriptResult(e2e.repo.root, rec.transcripts[1]);
    expect(line).toMatchObject({ session_id: firstSession, num_turns: rec.turns, total_cost_usd: rec.costUsd });
    // The file was written by the killed agent and committed by the resumed one.
    expect(e2e.repo.git('log', '-1', '--format=%s', 'milestone/1A')).toBe('1A: add 1A.txt');
    expect(readFileSync(path.join(e2e.repo.root, '1A.txt'), 'utf8')).toBe('made by 1A\n');
    expect(readFileSync(path.join(e2e.repo.root, 'TASKS.md'), 'utf8')).toContain('1/1 tasks done');
  });
});
