import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

/**
 * A task that needs attention, end to end on a real repository with the fake agent: what status, TASKS.md and the
 * task_finished event say about it, then `accept` after a fix by hand and `retry` with the findings.
 */
const reviewOf = (id: string) => `reviewing the work done for milestone ${id}:`;
const workOn = (id: string) => `milestone ${id}:`;
const approve = { structuredOutput: { verdict: 'approve', summary: 'Fine.', findings: [] } };
const requestChanges = { structuredOutput: { verdict: 'request_changes', summary: 'Edge cases missing.', findings: [{ severity: 'major', file: 'b.txt', line: 3, message: 'empty input is not handled' }] } };
const write = (file: string) => ({ steps: [{ write: file, content: `${file}\n` }] });

/**
 * 1A is approved at once. 1B's check (`test -f fixed.txt`) fails in round 1; the fix round makes it pass, and the
 * reviewer then asks for changes in round 2: with max_rounds 1 it needs attention, with a failed check and a finding
 * on record. `retry` (a third worker call) gets an approval.
 */
function attentionRepo() {
  return makeEngineRepo(
    { '1A': milestone('1A'), '1B': milestone('1B', { frontMatter: 'checks:\n  - test -f fixed.txt' }) },
    {
      rules: [
        { match: reviewOf('1A'), run: approve },
        { match: reviewOf('1B'), runs: [requestChanges, approve] },
        { match: workOn('1A'), run: write('a.txt') },
        { match: workOn('1B'), runs: [write('b.txt'), write('fixed.txt'), write('b-edge.txt')] },
      ],
    },
    { review: { enabled: true, max_rounds: 1 } },
  );
}

type Repo = ReturnType<typeof attentionRepo>;

function events(stdout: string): any[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('a task that needs attention', () => {
  let repo: Repo;
  let run: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    repo = attentionRepo();
    run = await runCli(['--json'], { cwd: repo.root, env: repo.env });
  }, 120_000);
  afterAll(() => repo.cleanup());

  it('is reported with its rounds, findings, failed checks, transcript and continue command in the task_finished event', () => {
    expect(run.exitCode, run.stderr).toBe(1);
    const finished = events(run.stdout).find((e) => e.type === 'task_finished' && e.id === '1B');
    const rec = readState(repo.root).tasks['1B'];
    const worktree = path.resolve(repo.root, rec.worktree);
    expect(finished.status).toBe('needs_attention');
    expect(finished.attention).toMatchObject({
      worktree,
      branch: 'milestone/1B',
      sessionId: rec.sessionId,
      // The run is sandboxed (bubblewrap is installed here): the session continues under the worker's sandbox settings.
      continueCommand: `cd ${worktree} && claude --resume ${rec.sessionId} --settings ${path.join(path.dirname(path.resolve(repo.root, rec.transcripts.at(-1))), '1B.settings.json')}`,
      rounds: [
        { round: 1, verdict: null, findings: [], failedChecks: [{ command: 'test -f fixed.txt', exitCode: 1, timedOut: false }] },
        { round: 2, verdict: 'request_changes', summary: 'Edge cases missing.', findings: [{ severity: 'major', file: 'b.txt', line: 3, message: 'empty input is not handled' }], failedChecks: [] },
      ],
    });
    expect(existsSync(finished.attention.transcript)).toBe(true);
    expect(finished.attention.transcript).toMatch(/1B\.agent-\d+\.jsonl$/);
    const done = events(run.stdout).find((e) => e.type === 'task_finished' && e.id === '1A');
    expect(done.attention).toBeUndefined();
  });

  it('shows the same in status, text and --json', async () => {
    const text = await runCli(['status'], { cwd: repo.root, env: repo.env });
    expect(text.exitCode).toBe(0);
    const rec = readState(repo.root).tasks['1B'];
    const worktree = path.resolve(repo.root, rec.worktree);
    expect(text.stdout).toContain('round 1: checks failed (no review)');
    expect(text.stdout).toContain('check `test -f fixed.txt` exited with 1');
    expect(text.stdout).toContain('round 2: review: request_changes — Edge cases missing.');
    expect(text.stdout).toContain('[major] b.txt:3 empty input is not handled');
    expect(text.stdout).toContain(`continue the agent's session by hand: cd ${worktree} && claude --resume ${rec.sessionId}`);
    expect(text.stdout).toContain('orchestrate accept 1B');
    expect(text.stdout).toContain('orchestrate retry 1B');
    const json = JSON.parse((await runCli(['status', '--json'], { cwd: repo.root, env: repo.env })).stdout);
    const b = json.tasks.find((t: any) => t.id === '1B');
    expect(b.attention.rounds[1].findings[0]).toEqual({ severity: 'major', file: 'b.txt', line: 3, message: 'empty input is not handled' });
    expect(json.tasks.find((t: any) => t.id === '1A').attention).toBeNull();
  });

  it('shows the findings and how to go on in TASKS.md, under a six-column table', () => {
    const md = readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8');
    expect(md).toContain('| Task | Title | Status | Rounds | Cost | Time |');
    expect(md).toMatch(/\| 1B \| Task 1B \| ⚠️ needs attention \| 2 \(request_changes\) \| \$\d+\.\d{4} \| \d+s \|/);
    expect(md).toContain('    - major `b.txt:3`: empty input is not handled');
    expect(md).toContain('    - check `test -f fixed.txt` exited with 1');
    expect(md).toContain('claude --resume');
  });

  it('refuses unknown ids and tasks that need nothing (exit 2), and while a run holds the lock (exit 4)', async () => {
    const unknown = await runCli(['accept', '1Z'], { cwd: repo.root, env: repo.env });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('the last run has no task 1Z');
    expect(unknown.stderr).toContain('its tasks: 1A, 1B');
    const done = await runCli(['retry', '1a'], { cwd: repo.root, env: repo.env });
    expect(done.exitCode).toBe(2);
    expect(done.stderr).toContain('1A is done; only a task that needs attention or failed can be retried');
    const lockFile = path.join(repo.root, '.orchestrator', 'lock');
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: 'orchestrate' }));
    try {
      for (const action of ['accept', 'retry']) {
        const locked = await runCli([action, '1B'], { cwd: repo.root, env: repo.env });
        expect(locked.exitCode, locked.stderr).toBe(4);
        expect(locked.stderr).toContain(`pid ${process.pid}`);
      }
    } finally {
      rmSync(lockFile);
    }
    expect(readState(repo.root).tasks['1B'].status).toBe('needs_attention');
  });

  it('accept: refuses while the checks fail, then commits the fix by hand, merges it and marks it done', async () => {
    const rec = readState(repo.root).tasks['1B'];
    const worktree = path.resolve(repo.root, rec.worktree);
    rmSync(path.join(worktree, 'fixed.txt'));
    const failing = await runCli(['accept', '1B'], { cwd: repo.root, env: repo.env });
    expect(failing.exitCode, failing.stderr).toBe(1);
    expect(failing.stderr).toContain('1B not accepted: `test -f fixed.txt` failed');
    expect(readState(repo.root).tasks['1B'].status).toBe('needs_attention');

    writeFileSync(path.join(worktree, 'fixed.txt'), 'fixed by hand\n');
    writeFileSync(path.join(worktree, 'b.txt'), 'b.txt\nempty input handled\n');
    const accepted = await runCli(['accept', '1B'], { cwd: repo.root, env: repo.env });
    expect(accepted.exitCode, accepted.stdout + accepted.stderr).toBe(0);
    const state = readState(repo.root);
    expect(state.tasks['1B']).toMatchObject({ status: 'done', merged: true });
    expect(state.tasks['1B'].accepted.checks).toEqual([expect.objectContaining({ command: 'test -f fixed.txt', ok: true })]);
    expect(repo.git('log', '--format=%s', 'main')).toContain('Merge milestone 1B: Task 1B');
    expect(repo.git('show', 'main:b.txt')).toContain('empty input handled');
    expect(repo.git('show', 'main:fixed.txt')).toBe('fixed by hand');
    expect(repo.git('log', '--format=%B', '-1', 'milestone/1B')).toContain('accepted with orchestrate accept 1B');
    // No agent ran for the acceptance: the worker ran twice and the reviewer twice, as in the first run.
    expect(readAgentLog(repo.log).filter((r) => r.event === 'start')).toHaveLength(5);
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toContain('✅ done (accepted by hand)');
    const again = await runCli(['accept', '1B'], { cwd: repo.root, env: repo.env });
    expect(again.exitCode).toBe(2);
  });
});

describe('orchestrate retry', () => {
  let repo: Repo;
  afterAll(() => repo?.cleanup());

  it("runs the task again in its session with the last round's findings, and merges it once approved", async () => {
    repo = attentionRepo();
    const first = await runCli([], { cwd: repo.root, env: repo.env });
    expect(first.exitCode, first.stderr).toBe(1);
    const session = readState(repo.root).tasks['1B'].sessionId;
    const retried = await runCli(['retry', '1B'], { cwd: repo.root, env: repo.env });
    expect(retried.exitCode, retried.stdout + retried.stderr).toBe(0);
    const workerStarts = readAgentLog(repo.log).filter((r) => r.event === 'start' && r.key === workOn('1B')) as unknown as Array<{ prompt: string; resumed: boolean; sessionId: string }>;
    expect(workerStarts).toHaveLength(3);
    const retry = workerStarts[2]!;
    expect(retry).toMatchObject({ resumed: true, sessionId: session });
    expect(retry.prompt).toContain('[major] b.txt:3 empty input is not handled');
    expect(retry.prompt).toContain('Edge cases missing.');
    const state = readState(repo.root);
    expect(state.tasks['1B']).toMatchObject({ status: 'done', merged: true });
    expect(state.tasks['1B'].retryFeedback).toBeUndefined();
    expect(repo.git('show', 'main:b-edge.txt')).toBe('b-edge.txt');
  });
});

describe('accept and retry in a run with other unfinished tasks', () => {
  let repo: ReturnType<typeof makeEngineRepo>;
  afterAll(() => repo?.cleanup());

  it('finish the run as failed, not completed, while another task failed (the same rule as a whole run)', async () => {
    repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B'), '1C': milestone('1C') },
      {
        rules: [
          { match: reviewOf('1A'), run: approve },
          { match: reviewOf('1B'), runs: [requestChanges, requestChanges] },
          { match: workOn('1A'), run: write('a.txt') },
          { match: workOn('1B'), runs: [write('b.txt'), write('b2.txt')] },
          { match: workOn('1C'), run: { steps: [{ write: 'c.txt', content: 'c\n' }], result: 'error', resultText: '1C broke' } },
        ],
      },
      { review: { enabled: true, max_rounds: 1 }, retry_attempts: 0, max_parallel_tasks: 3 },
    );
    const first = await runCli([], { cwd: repo.root, env: repo.env });
    expect(first.exitCode, first.stdout + first.stderr).toBe(1);
    expect(readState(repo.root).tasks).toMatchObject({ '1B': { status: 'needs_attention' }, '1C': { status: 'failed' } });

    const accepted = await runCli(['accept', '1B'], { cwd: repo.root, env: repo.env });
    const state = readState(repo.root);
    expect(state.tasks['1B']).toMatchObject({ status: 'done', merged: true });
    expect(state.status).toBe('failed');
    expect(accepted.exitCode, accepted.stdout + accepted.stderr).toBe(1);
    expect(accepted.stdout).toMatch(/^Run \S+: failed$/m);
    expect(accepted.stdout).toMatch(/^ {2}1C {2}failed/m);
    expect(accepted.stdout).toContain('Continue with: orchestrate --resume');
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toContain('Status: **failed**');
  }, 120_000);
});

describe('orchestrate accept when the agent cannot run', () => {
  let repo: Repo;
  afterAll(() => repo?.cleanup());

  it('keeps the acceptance, exits 3 and says that --resume merges it; status says so too', async () => {
    repo = attentionRepo();
    const first = await runCli([], { cwd: repo.root, env: repo.env });
    expect(first.exitCode, first.stderr).toBe(1);
    const noCredentials = { ...repo.env, ANTHROPIC_API_KEY: undefined };
    const accepted = await runCli(['accept', '1B'], { cwd: repo.root, env: noCredentials });
    expect(accepted.exitCode, accepted.stdout + accepted.stderr).toBe(3);
    expect(accepted.stderr).toContain('no credentials');
    expect(accepted.stderr).toContain('1B stays accepted (done, not merged yet); once that is fixed, orchestrate --resume merges it');
    expect(readState(repo.root).tasks['1B']).toMatchObject({ status: 'done' });
    const status = await runCli(['status'], { cwd: repo.root, env: noCredentials });
    expect(status.stdout).toMatch(/accepted by hand \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d; not merged yet: orchestrate --resume merges it/);
    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(readState(repo.root).tasks['1B']).toMatchObject({ status: 'done', merged: true });
    expect((await runCli(['status'], { cwd: repo.root, env: repo.env })).stdout).not.toContain('not merged yet');
  }, 120_000);
});
