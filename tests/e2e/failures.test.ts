import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { milestone } from '../support/engine-fixture.js';
import { readState, sessionHeader, setupE2E, sumUsage, tasksMdRow, transcriptResult, turnsOf, unexpected, usage, type E2E, type OrchestratorResult } from './harness.js';

/**
 * Failures the real claude CLI reports in ways that are easy to misread: an API error it does not retry, and a
 * permission denial that still exits 0. 3 agent processes.
 */

/** Stage 1 task that writes its file and finishes; the orchestrator commits the change. */
function okRules(id: string, seed: number) {
  return [
    {
      name: `${id}-write`,
      match: { conversation: `milestone ${id}:`, turn: 0 },
      reply: { tool_use: { name: 'Write', input: { file_path: `{{cwd}}/${id}.txt`, content: `made by ${id}\n` } }, usage: usage(seed) },
    },
    { name: `${id}-done`, match: { conversation: `milestone ${id}:`, turn: 1, last_user: 'File created successfully' }, reply: { text: `${id} is done.`, usage: usage(seed + 1) } },
  ];
}

const PINNED_VERSION = (JSON.parse(readFileSync(new URL('../../node_modules/@anthropic-ai/claude-code/package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('e2e: an API error claude does not retry', () => {
  let e2e: E2E;
  let result: OrchestratorResult;
  let state: any;
  const apiMessage = 'messages.0.content: scripted invalid request for 1A';

  beforeAll(async () => {
    e2e = await setupE2E({
      milestones: { '1A': milestone('1A'), '1B': milestone('1B'), '2A': milestone('2A', { deps: ['1A'] }) },
      scenario: {
        rules: [
          // Every request of 1A's agent is refused with a 400: not retried with backoff, the CLI gives up at once.
          { name: '1A-400', match: { conversation: 'milestone 1A:' }, reply: { fault: { status: 400, body_message: apiMessage } } },
          ...okRules('1B', 1),
        ],
      },
    });
    result = await e2e.run();
    state = readState(e2e.repo.root);
  }, 90_000);
  afterAll(() => e2e?.cleanup());

  it('fails the task with a reason that names the API error; the run exits 1', () => {
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(unexpected(e2e.server)).toEqual([]);
    const rec = state.tasks['1A'];
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/^api_error: /);
    expect(rec.reason).toContain('HTTP 400');
    expect(rec.reason).toContain(apiMessage);
    // The server refused every request the agent made, and it made some.
    const turns = turnsOf(e2e.server, '1A');
    expect(turns.length).toBeGreaterThan(0);
    expect(turns.every((r) => r.status === 400)).toBe(true);
    // The session is known even though no turn succeeded.
    expect(rec.sessionId).toBe(sessionHeader(turns[0]!));
    const line = transcriptResult(e2e.repo.root, rec.transcripts[0]);
    expect(line).toMatchObject({ is_error: true, api_error_status: 400 });
    expect(rec.usage).toEqual(sumUsage([]));
    expect(['failed', 'stopped']).toContain(state.status);
  });

  it('skips the dependents of the failed task without starting their agents', () => {
    expect(state.tasks['2A'].status).toBe('skipped');
    expect(state.tasks['2A'].attempts).toBe(0);
    expect(turnsOf(e2e.server, '2A')).toEqual([]);
  });

  it('still finishes and merges the independent task of the same stage', () => {
    expect(state.tasks['1B']).toMatchObject({ status: 'done', merged: true, turns: 2, usage: sumUsage([usage(1), usage(2)]) });
    expect(readFileSync(path.join(e2e.repo.root, '1B.txt'), 'utf8')).toBe('made by 1B\n');
    expect(existsSync(path.join(e2e.repo.root, '1A.txt'))).toBe(false);
  });

  it('TASKS.md and the summary say what failed and why', () => {
    const tasksMd = readFileSync(path.join(e2e.repo.root, 'TASKS.md'), 'utf8');
    expect(tasksMdRow(tasksMd, '1A')).toContain('❌ failed');
    // The reason is in the list under the table, where it has room.
    expect(tasksMd).toMatch(/^- \*\*1A\*\* ❌ failed: api_error: .*HTTP 400/m);
    expect(tasksMdRow(tasksMd, '2A')).toContain('⏭️ skipped');
    expect(tasksMdRow(tasksMd, '1B')).toContain('✅ done');
    expect(result.stdout).toMatch(/1A\s+failed\s+api_error: .*HTTP 400/);
  });
});

describe('e2e: a permission denial (claude exits 0 all the same)', () => {
  let e2e: E2E;
  let result: OrchestratorResult;
  let state: any;
  const outside = path.join(tmpdir(), `mo-e2e-outside-${randomBytes(4).toString('hex')}`);

  beforeAll(async () => {
    e2e = await setupE2E({
      // Also: with no agent.command and no claude on PATH, the orchestrator runs its own pinned CLI.
      findClaude: true,
      milestones: { '1A': milestone('1A') },
      scenario: {
        rules: [
          {
            name: 'write-inside',
            match: { conversation: 'milestone 1A:', turn: 0 },
            reply: { tool_use: { name: 'Write', input: { file_path: '{{cwd}}/1A.txt', content: 'made by 1A\n' } }, usage: usage(1) },
          },
          {
            // acceptEdits only accepts edits inside the working directory: this one is denied.
            name: 'write-outside',
            match: { conversation: 'milestone 1A:', turn: 1, last_user: 'File created successfully' },
            reply: { tool_use: { name: 'Write', input: { file_path: path.join(outside, 'escape.txt'), content: 'escaped\n' } }, usage: usage(2) },
          },
          // The model shrugs the refusal off and claims success: the CLI ends with is_error false and exit 0.
          { name: 'claims-done', match: { conversation: 'milestone 1A:', turn: 2 }, reply: { text: 'All done.', usage: usage(3) } },
        ],
      },
    });
    result = await e2e.run();
    state = readState(e2e.repo.root);
  }, 90_000);
  afterAll(async () => {
    rmSync(outside, { recursive: true, force: true });
    await e2e?.cleanup();
  });

  it('the CLI itself reported success with a denial', () => {
    expect(unexpected(e2e.server)).toEqual([]);
    expect(turnsOf(e2e.server, '1A').map((r) => r.rule?.name)).toEqual(['write-inside', 'write-outside', 'claims-done']);
    const line = transcriptResult(e2e.repo.root, state.tasks['1A'].transcripts[0]);
    expect(line).toMatchObject({ is_error: false, subtype: 'success', permission_denials: [expect.objectContaining({ tool_name: 'Write' })] });
    expect(existsSync(path.join(outside, 'escape.txt'))).toBe(false);
    // Found without agent.command and without claude on PATH: the project's pinned CLI.
    const init = readFileSync(path.join(e2e.repo.root, state.tasks['1A'].transcripts[0]), 'utf8').split('\n').find((l) => l.includes('"subtype":"init"'));
    expect(JSON.parse(init!).claude_code_version).toBe(PINNED_VERSION);
  });

  it('fails the task with permission_denied in the reason, and the run exits 1', () => {
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const rec = state.tasks['1A'];
    expect(rec.status).toBe('failed');
    expect(rec.reason).toMatch(/^permission_denied: /);
    expect(rec.reason).toContain('Write');
    expect(rec.merged).toBeFalsy();
    // Its tokens still count.
    expect(rec.usage).toEqual(sumUsage([usage(1), usage(2), usage(3)]));
    // Nothing of the task reached main.
    expect(existsSync(path.join(e2e.repo.root, '1A.txt'))).toBe(false);
    expect(e2e.repo.git('log', '--format=%s', 'main')).not.toMatch(/Merge milestone 1A/);
  });
});
