import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRaw, runGitWithoutHooks } from '../../src/git/client.js';
import { commitAll } from '../../src/git/commit.js';
import type { CommandSandbox } from '../../src/sandbox/plan.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

/**
 * With the agents' sandbox on, the orchestrator's own git commands run no hooks outside it (a husky hooks path is
 * in the worktree the agent writes), while the hooks of an agent's commit still run, inside the sandbox.
 * runGitWithoutHooks is process-wide, so this file has it on throughout.
 */

const bwrap = execFileSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).trim();
let repo: TempRepo;
let worktree: string;
let marks: string;

beforeAll(() => {
  runGitWithoutHooks();
  repo = makeRepo();
  marks = `${repo.root}-marks`;
  mkdirSync(marks);
  repo.git('config', 'core.hooksPath', '.husky');
  repo.git('branch', 'other');
  worktree = `${repo.root}-wt`;
  repo.git('worktree', 'add', '-q', '-b', 'task', worktree);
  worktree = realpathSync(worktree);
  // What an agent could write: hooks git would run on its own after a merge, a checkout, any ref update, a commit.
  for (const name of ['post-merge', 'post-checkout', 'reference-transaction', 'post-commit', 'pre-commit']) {
    const file = path.join(worktree, '.husky', name);
    mkdirSync(path.dirname(file), { recursive: true });
    const stage = name === 'pre-commit' ? 'echo staged > pre-commit-was-here.txt && git add pre-commit-was-here.txt\n' : '';
    writeFileSync(file, `#!/bin/sh\n${stage}echo ran > '${marks}/${name}' 2>/dev/null\nexit 0\n`);
    chmodSync(file, 0o755);
  }
});

afterAll(() => {
  repo.git('worktree', 'remove', '--force', worktree);
  repo.cleanup();
  rmSync(marks, { recursive: true, force: true });
  rmSync(`${repo.root}-wt-nested`, { recursive: true, force: true });
});

describe('git outside the sandbox runs no hooks', () => {
  it('a merge, a checkout and ref updates the orchestrator makes in the worktree start none of the worktree hooks', async () => {
    await gitRaw(worktree, ['-c', 'user.name=t', '-c', 'user.email=t@e', 'merge', '--no-ff', '--no-edit', 'other']);
    await gitRaw(worktree, ['checkout', '-q', '-b', 'task-2']);
    await gitRaw(worktree, ['update-ref', 'refs/heads/moved', 'HEAD']);
    expect(existsSync(path.join(marks, 'post-merge'))).toBe(false);
    expect(existsSync(path.join(marks, 'post-checkout'))).toBe(false);
    expect(existsSync(path.join(marks, 'reference-transaction'))).toBe(false);
    // The same hook runs when git is asked directly, so the files are real hooks.
    execFileSync('git', ['checkout', '-q', '-b', 'task-3'], { cwd: worktree });
    expect(existsSync(path.join(marks, 'post-checkout'))).toBe(true);
  });

  it("a repository an agent nests in its worktree (committed as a gitlink): the orchestrator's git never runs its core.fsmonitor, and status and diff not its clean filter", async () => {
    // A worktree of its own: the nested repository it leaves would make commitAll refuse the shared one (commit.ts).
    const own = `${repo.root}-wt-nested`;
    repo.git('worktree', 'add', '-q', '-b', 'task-nested', own);
    writeFileSync(path.join(own, 'other.txt'), 'other\n');
    const sub = path.join(own, 'nested');
    const g = (...args: string[]) => execFileSync('git', ['-c', 'user.name=a', '-c', 'user.email=a@b', '-C', sub, ...args], { encoding: 'utf8' });
    execFileSync('git', ['init', '-q', sub]);
    writeFileSync(path.join(sub, 'f.txt'), 'f\n');
    writeFileSync(path.join(sub, '.gitattributes'), '* filter=evil\n');
    g('add', '-A');
    g('commit', '-qm', 'nested');
    g('config', 'core.fsmonitor', `touch '${marks}/fsmonitor'; false`);
    g('config', 'filter.evil.clean', `sh -c "touch '${marks}/filter'; cat"`);
    await gitRaw(own, ['add', '-A']);
    await gitRaw(own, ['commit', '-qm', 'nested repository', '--no-verify']);
    writeFileSync(path.join(sub, 'f.txt'), 'changed\n');
    await gitRaw(own, ['--no-optional-locks', 'status', '--porcelain']);
    await gitRaw(own, ['diff', 'HEAD', '--stat']);
    expect(existsSync(path.join(marks, 'fsmonitor'))).toBe(false);
    expect(existsSync(path.join(marks, 'filter'))).toBe(false);
    // git add looks into submodules whatever diff.ignoreSubmodules says: core.fsmonitor=false still holds there, a
    // nested clean filter does not (still open: see the comment in client.ts).
    await gitRaw(own, ['add', '-A']);
    expect(existsSync(path.join(marks, 'fsmonitor'))).toBe(false);
    // Without the orchestrator's settings, git runs both (what the test guards against).
    execFileSync('git', ['-C', own, 'status', '--porcelain'], { env: { ...process.env, GIT_CONFIG_COUNT: '0' } });
    expect(existsSync(path.join(marks, 'fsmonitor'))).toBe(true);
    rmSync(path.join(marks, 'fsmonitor'), { force: true });
    rmSync(path.join(marks, 'filter'), { force: true });
  });

  it("the agent's commit still runs its pre-commit and post-commit hooks, inside the sandbox (which cannot write the marks folder)", async () => {
    const sandbox: CommandSandbox = { bwrap, denyRead: [], denyEnv: [], keepVisible: [path.join(repo.root, '.git')] };
    writeFileSync(path.join(worktree, 'e.txt'), 'e\n');
    rmSync(path.join(marks, 'reference-transaction'), { force: true });
    const result = await commitAll(worktree, '1A: work', { sandbox });
    expect(result.kind).toBe('committed');
    // pre-commit ran (inside): what it staged is in the commit.
    expect(execFileSync('git', ['show', 'HEAD:pre-commit-was-here.txt'], { cwd: worktree, encoding: 'utf8' })).toBe('staged\n');
    // Outside the sandbox nothing ran (the commit's own ref update included); inside, the hooks' writes to the marks
    // folder (under /tmp, not the worktree) went nowhere.
    expect(existsSync(path.join(marks, 'pre-commit'))).toBe(false);
    expect(existsSync(path.join(marks, 'post-commit'))).toBe(false);
    expect(existsSync(path.join(marks, 'reference-transaction'))).toBe(false);
  });
});
