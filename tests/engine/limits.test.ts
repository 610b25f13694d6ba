import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';
import { retryDeadline } from '../../src/run/limits.js';
import type { AgentRunResult } from '../../src/agents/types.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const write = (file: string) => ({ steps: [{ write: file, content: `${file}\n` }] });

function startsOf(log: string, key: string) {
  return readAgentLog(log).filter((r) => r.event === 'start' && r.key === key);
}

describe('retry deadlines', () => {
  const failure = (kind: 'usage_limit' | 'rate_limited', resetsAt?: number) => ({ failure: { kind, message: 'x' }, ...(resetsAt ? { resetsAt } : {}) }) as AgentRunResult;
  it('waits for the announced reset plus a margin', () => {
    expect(retryDeadline({ result: failure('usage_limit', 100_000), attempt: 1, baseWaitSeconds: 300, now: 50_000, random: () => 0.5 })).toBe(105_000);
  });
  it('backs off exponentially with jitter when no reset is known, capped at an hour', () => {
    expect(retryDeadline({ result: failure('rate_limited'), attempt: 1, baseWaitSeconds: 10, now: 0, random: () => 0.5 })).toBe(10_000);
    expect(retryDeadline({ result: failure('rate_limited'), attempt: 3, baseWaitSeconds: 10, now: 0, random: () => 0.5 })).toBe(40_000);
    expect(retryDeadline({ result: failure('rate_limited'), attempt: 3, baseWaitSeconds: 10, now: 0, random: () => 0 })).toBe(32_000);
    expect(retryDeadline({ result: failure('rate_limited'), attempt: 30, baseWaitSeconds: 300, now: 0, random: () => 0.5 })).toBe(3_600_000);
    // A reset already past (with its margin): try again at once, not after a backoff.
    expect(retryDeadline({ result: failure('usage_limit', 10), attempt: 1, baseWaitSeconds: 300, now: 60_000, random: () => 0.5 })).toBe(60_000);
  });
});

describe('usage and rate limits', () => {
  it('pauses everything on a usage limit, then resumes the same session after the reset and completes', async () => {
    const resetsAt = Math.ceil(Date.now() / 1000) + 1;
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B'), '1C': milestone('1C') },
      {
        rules: [
          { match: 'milestone 1A:', runs: [{ result: 'usage_limit', resetsAt }, write('a.txt')] },
          { match: 'milestone 1B:', run: { steps: [{ sleep: 200 }, { write: 'b.txt', content: 'b' }] } },
          { match: 'milestone 1C:', run: write('c.txt') },
        ],
      },
      { max_parallel_tasks: 2 },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const pause = /(\S+) pausing the run until (\S+):/.exec(result.stderr + result.stdout);
    expect(pause, result.stdout + result.stderr).not.toBeNull();
    const until = Date.parse(pause![2]!);
    expect(until).toBeGreaterThanOrEqual(resetsAt * 1000);
    const a = startsOf(repo.log, 'milestone 1A:');
    expect(a).toHaveLength(2);
    expect(a[1]).toMatchObject({ resumed: true, sessionId: a[0]!.sessionId });
    expect(a[1]!.time).toBeGreaterThanOrEqual(until);
    // Nothing new started while paused: 1C waited for the pause to end.
    const c = startsOf(repo.log, 'milestone 1C:');
    expect(c).toHaveLength(1);
    expect(c[0]!.time).toBeGreaterThanOrEqual(until);
    const state = readState(repo.root);
    expect(state.status).toBe('completed');
    expect(state.pause).toBeUndefined();
  });

  it('with auto_resume off, saves, exits 75, refuses to resume early, and continues after the deadline', async () => {
    const resetsAt = Math.ceil(Date.now() / 1000) + 1;
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      { rules: [{ match: 'milestone 1A:', runs: [{ result: 'usage_limit', resetsAt }, write('a.txt')] }] },
      { auto_resume: false },
    );
    cleanup = repo.cleanup;
    const first = await runCli([], { cwd: repo.root, env: repo.env });
    expect(first.exitCode, first.stdout + first.stderr).toBe(75);
    const paused = readState(repo.root);
    expect(paused.status).toBe('paused');
    const until = Date.parse(paused.pause.until);
    expect(until).toBeGreaterThanOrEqual(resetsAt * 1000);
    expect(first.stdout).toMatch(/Paused until .*orchestrate --resume/);

    // The deadline is moved by hand so the checks do not depend on how fast this machine is today.
    const stateFile = path.join(repo.root, '.orchestrator', 'run-state.json');
    const withPauseUntil = (ms: number) => writeFileSync(stateFile, JSON.stringify({ ...readState(repo.root), pause: { ...paused.pause, until: new Date(ms).toISOString() } }));
    withPauseUntil(Date.now() + 60_000);
    const early = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(early.exitCode).toBe(75);
    expect(early.stdout).toMatch(/still paused until/);
    expect(startsOf(repo.log, 'milestone 1A:')).toHaveLength(1);

    withPauseUntil(Date.now() - 1000);
    const later = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(later.exitCode, later.stdout + later.stderr).toBe(0);
    const a = startsOf(repo.log, 'milestone 1A:');
    expect(a[1]).toMatchObject({ resumed: true, sessionId: a[0]!.sessionId });
  });

  it('survives a storm of rate-limit failures with backoff, and gives up after retry_attempts', async () => {
    const storm = { result: 'rate_limited' };
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B') },
      {
        rules: [
          { match: 'milestone 1A:', runs: [storm, storm, storm, write('a.txt')] },
          { match: 'milestone 1B:', runs: [storm] },
        ],
      },
      { claude_rate_limit_wait: 0.05, retry_attempts: 3, on_failure: 'continue' },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    const state = readState(repo.root);
    expect(state.tasks['1A'].status).toBe('done');
    expect(startsOf(repo.log, 'milestone 1A:')).toHaveLength(4);
    expect(state.tasks['1B'].status).toBe('failed');
    expect(state.tasks['1B'].reason).toMatch(/rate_limited/);
    expect(startsOf(repo.log, 'milestone 1B:')).toHaveLength(4); // the first try and 3 retries
    expect(result.exitCode).toBe(1);
  });
});

describe('a pause holds every agent', () => {
  it('starts no review or fix round of a running task during the pause', async () => {
    const resetsAt = Math.ceil(Date.now() / 1000) + 2;
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B') },
      {
        rules: [
          { match: 'reviewing the work done for milestone', run: { structuredOutput: { verdict: 'approve', summary: 'ok', findings: [] } } },
          { match: 'milestone 1A:', runs: [{ result: 'usage_limit', resetsAt }, write('a.txt')] },
          { match: 'milestone 1B:', run: { steps: [{ sleep: 300 }, { write: 'b.txt', content: 'b' }] } },
        ],
      },
      { max_parallel_tasks: 2, review: { enabled: true } },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const output = result.stdout + result.stderr;
    const pausedAt = Date.parse(`${new Date().toISOString().slice(0, 10)}T${/(\d\d:\d\d:\d\d) pausing the run/.exec(output)![1]}Z`);
    const until = Date.parse(/pausing the run until (\S+):/.exec(output)![1]!);
    // 1B's worker was spawned before the pause (its own start record may come a little later); its review must wait.
    const reviews = readAgentLog(repo.log).filter((r) => r.event === 'start' && r.key === 'reviewing the work done for milestone');
    expect(reviews.length).toBeGreaterThanOrEqual(2);
    expect(reviews.filter((r) => r.time >= pausedAt && r.time < until)).toEqual([]);
  });
});

describe('budgets', () => {
  it('starts no new task once budget.max_usd_total is spent, and says so', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A', { estimate: '3 hours' }), '1B': milestone('1B', { estimate: '2 hours' }), '1C': milestone('1C') },
      { default: { costUsd: 0.6, steps: [{ write: 'x.txt', content: 'x' }] }, rules: ['A', 'B', 'C'].map((l) => ({ match: `milestone 1${l}:`, run: { costUsd: 0.6, steps: [{ write: `${l}.txt`, content: l }] } })) },
      { max_parallel_tasks: 1, budget: { max_usd_total: 1 } },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(1);
    const state = readState(repo.root);
    // After 1A ($0.60) the total is under $1, so 1B starts; after 1B ($1.20 in all) it is spent: 1C never starts.
    expect(startsOf(repo.log, 'milestone 1C:')).toHaveLength(0);
    expect(state.tasks['1C'].status).toBe('pending');
    expect(state.message).toMatch(/total budget is spent: \$1\.2000 of budget\.max_usd_total \$1/);
  });
});
