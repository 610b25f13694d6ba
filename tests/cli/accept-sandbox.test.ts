import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

/**
 * `orchestrate accept` runs the task's checks on code an agent wrote: in the run's sandbox (bubblewrap, installed on
 * the test machines), never as the user unasked; and a worktree whose .git file a check overwrote is a clear error.
 */
const workOn = (id: string) => `milestone ${id}:`;
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** 1A's check fails until fixed.txt exists; before that it tries to leave `marker` outside the worktree. */
function repoWithCheck(check: string, config: object = {}) {
  const repo = makeEngineRepo({ '1A': milestone('1A', { frontMatter: `checks:\n  - ${JSON.stringify(check)}` }) }, { rules: [{ match: workOn('1A'), run: { steps: [{ write: 'a.txt', content: 'a\n' }] } }] }, { review: { enabled: false, max_rounds: 0 }, ...config });
  cleanups.push(repo.cleanup);
  return repo;
}

function outside(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mo-accept-outside-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('orchestrate accept with the sandbox on', () => {
  it('runs the checks in the sandbox: a check cannot write outside the worktree, and the fix is accepted and merged', async () => {
    const dir = outside();
    const marker = path.join(dir, 'written-by-check');
    const repo = repoWithCheck(`touch ${marker} 2>/dev/null; test -f fixed.txt`);
    const run = await runCli([], { cwd: repo.root, env: repo.env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    expect(readState(repo.root).tasks['1A'].status).toBe('needs_attention');
    const worktree = path.resolve(repo.root, readState(repo.root).tasks['1A'].worktree);
    writeFileSync(path.join(worktree, 'fixed.txt'), 'fixed\n');
    const accepted = await runCli(['accept', '1A'], { cwd: repo.root, env: repo.env });
    expect(accepted.exitCode, accepted.stdout + accepted.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(readState(repo.root).tasks['1A']).toMatchObject({ status: 'done', merged: true });
    expect(repo.git('show', 'main:fixed.txt')).toBe('fixed');
  });
});

describe('orchestrate accept without the sandbox', () => {
  it('a check that overwrote the worktree\'s .git file: names the worktree and git worktree repair, exit 2; repaired, it is accepted', async () => {
    const repo = repoWithCheck('test -f fixed.txt || exit 1; test -f .git-broken-once || { touch .git-broken-once; echo garbage > .git; }', { agent: { sandbox: false, allowed_tools: ['Write'] } });
    const run = await runCli([], { cwd: repo.root, env: repo.env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    const worktree = path.resolve(repo.root, readState(repo.root).tasks['1A'].worktree);
    writeFileSync(path.join(worktree, 'fixed.txt'), 'fixed\n');
    const broken = await runCli(['accept', '1A'], { cwd: repo.root, env: repo.env });
    expect(broken.exitCode, broken.stdout + broken.stderr).toBe(2);
    expect(broken.stderr).toContain(`git cannot read its worktree ${worktree}`);
    expect(broken.stderr).toContain('worktree repair');
    expect(broken.stderr).not.toContain('internal error');
    expect(readFileSync(path.join(worktree, '.git'), 'utf8')).toBe('garbage\n');
    // The hint, followed as printed.
    const hint = /git -C (\S+) worktree repair\b/.exec(broken.stderr)!;
    repo.git('-C', hint[1]!, 'worktree', 'repair');
    const accepted = await runCli(['accept', '1A'], { cwd: repo.root, env: repo.env });
    expect(accepted.exitCode, accepted.stdout + accepted.stderr).toBe(0);
    expect(readState(repo.root).tasks['1A']).toMatchObject({ status: 'done', merged: true });
  });
});
