import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { commitAll } from '../../src/git/commit.js';
import { commonGitDir, worktreeGitDir, worktreeLock } from '../../src/git/layout.js';
import { mergeInWorktree } from '../../src/git/merge.js';
import { commitConfig } from '../../src/git/repo-config.js';
import { lockWorktree, prepareTaskWorktree, taskLockReason, unlockWorktree } from '../../src/git/worktree.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

/** A `git` first on PATH that logs each call's arguments, then runs the real git. */
function countingGit(): { calls(): string[]; restore(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mo-git-count-'));
  const log = path.join(dir, 'calls.log');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  mkdirSync(path.join(dir, 'bin'));
  writeFileSync(path.join(dir, 'bin', 'git'), `#!/bin/sh\nprintf '@@ %s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(path.join(dir, 'bin', 'git'), 0o755);
  writeFileSync(log, '');
  const before = process.env.PATH;
  process.env.PATH = `${path.join(dir, 'bin')}:${before ?? ''}`;
  return {
    calls: () => readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('@@ ')).map((l) => l.slice(3)),
    restore: () => {
      process.env.PATH = before;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let repo: TempRepo;
let worktrees: string;
beforeEach(() => {
  repo = makeRepo();
  worktrees = mkdtempSync(path.join(tmpdir(), 'mo-wts-'));
});
afterEach(() => {
  repo.cleanup();
  rmSync(worktrees, { recursive: true, force: true });
});

/** One task the way a run does it: worktree (locked), work, commit, unlock. Returns the branch. */
async function task(id: string, base: string): Promise<string> {
  const wt = path.join(worktrees, id);
  const reason = taskLockReason('run1', id);
  const prepared = await prepareTaskWorktree({ repoRoot: repo.root, worktreePath: wt, branch: `milestone/${id}`, baseSha: base, reuse: false, lockReason: reason });
  expect(prepared).toEqual({ kind: 'created', lock: { kind: 'locked' } });
  writeFileSync(path.join(wt, `${id}.txt`), `${id}\n`);
  const committed = await commitAll(wt, `${id}: work`, { since: base });
  expect(committed).toMatchObject({ kind: 'committed', commits: 1 });
  expect(await unlockWorktree(repo.root, wt, reason)).toBe(true);
  return `milestone/${id}`;
}

describe('git processes per task', () => {
  // 7: `git ls-files --stage --others` before the commit's `git add` finds git repositories an agent nested in its
  // worktree (git add would run their own configuration's clean filter as the user): one process for both lists.
  it('a task without hooks or leftovers costs 7 git processes, its merge 1, and the result is what git alone would make', async () => {
    const base = repo.git('rev-parse', 'HEAD');
    await task('1A', base); // the first one reads the repository's configuration once for the run
    const counter = countingGit();
    let calls: string[];
    try {
      const branch = await task('1B', base);
      calls = counter.calls();
      expect(calls.map((c) => c.split(' ').find((w) => !w.startsWith('-')))).toEqual(['worktree', 'ls-files', 'add', 'diff', 'commit', 'rev-list', 'worktree']);
      expect(repo.git('worktree', 'list', '--porcelain')).not.toContain('locked');
      expect(repo.git('log', '-1', '--format=%an %s', branch)).toBe('Test 1B: work');
      const before = counter.calls().length;
      const merged = await mergeInWorktree({ repoRoot: repo.root, mergeWorktreePath: path.join(worktrees, '_merge'), baseSha: base, branches: [{ branch: 'milestone/1A', message: 'Merge 1A' }, { branch, message: 'Merge 1B' }] });
      expect(merged.ok).toBe(true);
      const merges = counter.calls().slice(before).filter((c) => /\bmerge --no-ff\b/.test(c));
      expect(merges).toHaveLength(2);
      expect(repo.git('show', '--stat', '--format=', merged.sha)).toContain('1B.txt');
    } finally {
      counter.restore();
    }
  });

  it('a branch already merged is "already up to date": merged, no new commit', async () => {
    const base = repo.git('rev-parse', 'HEAD');
    const branch = await task('1A', base);
    const first = await mergeInWorktree({ repoRoot: repo.root, mergeWorktreePath: path.join(worktrees, '_merge'), baseSha: base, branches: [{ branch, message: 'Merge 1A' }] });
    const again = await mergeInWorktree({ repoRoot: repo.root, mergeWorktreePath: path.join(worktrees, '_merge'), baseSha: first.sha, branches: [{ branch, message: 'Merge 1A' }] });
    expect(again).toMatchObject({ ok: true, sha: first.sha, merged: [branch] });
  });

  it('a leftover branch still stops the fast path with the same answer as before', async () => {
    const base = repo.git('rev-parse', 'HEAD');
    repo.git('branch', 'milestone/1A', base);
    const prepared = await prepareTaskWorktree({ repoRoot: repo.root, worktreePath: path.join(worktrees, '1A'), branch: 'milestone/1A', baseSha: base, reuse: false, lockReason: 'x' });
    expect(prepared).toMatchObject({ kind: 'leftover', message: 'branch milestone/1A already exists from an earlier run' });
    const reused = await prepareTaskWorktree({ repoRoot: repo.root, worktreePath: path.join(worktrees, '1A'), branch: 'milestone/1A', baseSha: base, reuse: true, lockReason: taskLockReason('run2', '1A') });
    expect(reused).toEqual({ kind: 'reused', lock: { kind: 'locked' } });
    expect(worktreeLock(path.join(worktrees, '1A'))).toEqual({ locked: true, reason: taskLockReason('run2', '1A') });
  });

  it("someone else's lock is kept, and an earlier run's lock of ours is replaced", async () => {
    const base = repo.git('rev-parse', 'HEAD');
    const wt = path.join(worktrees, '1A');
    repo.git('worktree', 'add', '-q', '-b', 'milestone/1A', wt, base);
    repo.git('worktree', 'lock', '--reason', 'on a USB disk', wt);
    expect(await lockWorktree(repo.root, wt, taskLockReason('run1', '1A'))).toEqual({ kind: 'locked_by_other', reason: 'on a USB disk' });
    expect(await unlockWorktree(repo.root, wt, taskLockReason('run1', '1A'))).toBe(false);
    repo.git('worktree', 'unlock', wt);
    repo.git('worktree', 'lock', '--reason', taskLockReason('old', '1A'), wt);
    expect(await lockWorktree(repo.root, wt, taskLockReason('run1', '1A'))).toEqual({ kind: 'locked' });
    expect(repo.git('worktree', 'list', '--porcelain')).toContain(`locked ${taskLockReason('run1', '1A')}`);
  });
});

describe('layout read from disk', () => {
  it('finds the git dirs of the main and a linked worktree, and no lock on the main one', () => {
    const wt = path.join(worktrees, 'x');
    repo.git('worktree', 'add', '-q', '--detach', wt);
    expect(worktreeGitDir(repo.root)).toBe(path.join(repo.root, '.git'));
    expect(commonGitDir(repo.root)).toBe(path.join(repo.root, '.git'));
    expect(commonGitDir(wt)).toBe(path.join(repo.root, '.git'));
    expect(worktreeGitDir(wt)).toBe(path.join(repo.root, '.git', 'worktrees', 'x'));
    expect(worktreeLock(wt)).toEqual({ locked: false });
    expect(worktreeLock(repo.root)).toBeUndefined();
    expect(worktreeGitDir(path.join(worktrees, 'none'))).toBeUndefined();
  });
});

describe('commit configuration', () => {
  // Only this repository's configuration: the machine's own ~/.gitconfig may have an identity.
  const saved = { global: process.env.GIT_CONFIG_GLOBAL, nosystem: process.env.GIT_CONFIG_NOSYSTEM };
  beforeEach(() => {
    process.env.GIT_CONFIG_GLOBAL = path.join(worktrees, 'empty-gitconfig');
    writeFileSync(process.env.GIT_CONFIG_GLOBAL, '');
    process.env.GIT_CONFIG_NOSYSTEM = '1';
  });
  afterEach(() => {
    for (const [key, value] of [['GIT_CONFIG_GLOBAL', saved.global], ['GIT_CONFIG_NOSYSTEM', saved.nosystem]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('is read again when a configuration file changes (a set-up command setting core.hooksPath)', async () => {
    expect(await commitConfig(repo.root)).toEqual({ identityArgs: [], hooksPath: undefined });
    repo.git('config', 'core.hooksPath', '.husky');
    repo.git('config', '--unset', 'user.email');
    expect(await commitConfig(repo.root)).toEqual({ identityArgs: ['-c', 'user.email=orchestrator@localhost'], hooksPath: '.husky' });
  });

  it('a hook that appears through core.hooksPath after the first commit runs on the next one', async () => {
    repo.write('a.txt', 'a\n');
    expect((await commitAll(repo.root, 'first')).kind).toBe('committed');
    repo.write('.hooks/commit-msg', '#!/bin/sh\necho "no" >&2; exit 1\n');
    chmodSync(path.join(repo.root, '.hooks/commit-msg'), 0o755);
    repo.git('config', 'core.hooksPath', '.hooks');
    repo.write('b.txt', 'b\n');
    expect(await commitAll(repo.root, 'second')).toMatchObject({ kind: 'hook_failed', hook: 'commit-msg' });
  });

  it('per-worktree configuration is answered in each worktree, not shared', async () => {
    const wt = path.join(worktrees, 'x');
    repo.git('worktree', 'add', '-q', '--detach', wt);
    repo.git('config', 'extensions.worktreeConfig', 'true');
    repo.git('config', '--unset', 'user.name');
    expect((await commitConfig(repo.root)).identityArgs).toEqual(['-c', 'user.name=milestone-orchestrator']);
    execFileSync('git', ['config', '--worktree', 'user.name', 'Worktree Person'], { cwd: wt });
    expect((await commitConfig(wt)).identityArgs).toEqual([]);
    expect((await commitConfig(repo.root)).identityArgs).toEqual(['-c', 'user.name=milestone-orchestrator']);
  });
});
