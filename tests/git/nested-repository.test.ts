import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { commitAll } from '../../src/git/commit.js';
import { describeNestedRepositories, nestedRepositoryCandidates } from '../../src/git/nested.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo;
const temps: string[] = [];
afterEach(() => {
  repo?.cleanup();
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});

const ENV = { ...process.env, GIT_AUTHOR_NAME: 'A', GIT_AUTHOR_EMAIL: 'a@example.com', GIT_COMMITTER_NAME: 'A', GIT_COMMITTER_EMAIL: 'a@example.com' };
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: ENV, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A linked worktree of a fresh repository, as a task gets. */
function taskWorktree(): string {
  repo = makeRepo();
  const dir = mkdtempSync(path.join(tmpdir(), 'mo-nested-'));
  temps.push(dir);
  const wt = path.join(dir, '1A');
  repo.git('worktree', 'add', '-q', '-b', 'milestone/1A', wt);
  return wt;
}

/**
 * What the tester's agent did: a repository of its own at `rel`, one commit, a clean filter for every file in its
 * own `.git/config` that leaves `marker` behind when git runs it.
 */
function evilRepository(wt: string, rel: string, marker: string): void {
  const sub = path.join(wt, rel);
  mkdirSync(sub, { recursive: true });
  git(sub, 'init', '-q');
  writeFileSync(path.join(sub, 'file.txt'), 'one\n');
  git(sub, 'add', '-A');
  git(sub, 'commit', '-q', '-m', 'inner');
  writeFileSync(path.join(sub, '.gitattributes'), '* filter=evil\n');
  git(sub, 'config', 'filter.evil.clean', `sh -c 'touch ${marker}; cat'`);
}

describe('a git repository an agent made inside its worktree', () => {
  it('untracked: refused before anything is staged, naming the path and how to remove it; the filter never runs', async () => {
    const wt = taskWorktree();
    const marker = path.join(temps[0]!, 'filter-ran');
    writeFileSync(path.join(wt, 'work.txt'), 'work\n');
    evilRepository(wt, 'sub', marker);
    const head = git(wt, 'rev-parse', 'HEAD');
    const result = await commitAll(wt, '1A: work');
    expect(result).toEqual({ kind: 'nested_repository', nested: [{ path: 'sub', gitDir: 'directory' }] });
    expect(git(wt, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(wt, 'diff', '--cached', '--name-only')).toBe('');
    expect(existsSync(marker)).toBe(false);
    const told = describeNestedRepositories(result.kind === 'nested_repository' ? result.nested : []);
    expect(told).toContain('rm -rf sub/.git');
    expect(told).toContain('rm -rf sub');
  });

  it('already a gitlink (committed in an earlier round): the next commit refuses it and the filter never runs', async () => {
    const wt = taskWorktree();
    const marker = path.join(temps[0]!, 'filter-ran');
    evilRepository(wt, 'sub', marker);
    git(wt, 'add', '-A'); // what the orchestrator's commit did before this check
    git(wt, 'commit', '-q', '-m', 'gitlink');
    expect(git(wt, 'ls-files', '-s', 'sub')).toMatch(/^160000 /);
    // Touched, same size: git must read the file to tell whether it changed, and so runs its clean filter.
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(wt, 'sub', 'file.txt'), later, later);
    writeFileSync(path.join(wt, 'work.txt'), 'work\n');
    const result = await commitAll(wt, '1A: more');
    expect(existsSync(marker)).toBe(false);
    expect(result).toEqual({ kind: 'nested_repository', nested: [{ path: 'sub', gitDir: 'directory' }] });
    expect(git(wt, 'diff', '--cached', '--name-only')).toBe('');
  });

  it('deep inside an untracked folder, and one whose .git is a file naming a git folder the agent writes', async () => {
    const wt = taskWorktree();
    const marker = path.join(temps[0]!, 'filter-ran');
    evilRepository(wt, 'a/b/deep', marker);
    const elsewhere = path.join(temps[0]!, 'elsewhere');
    mkdirSync(path.join(wt, 'pointed'));
    git(temps[0]!, 'init', '-q', '--separate-git-dir', elsewhere, path.join(wt, 'pointed'));
    const result = await commitAll(wt, '1A: work');
    expect(result).toEqual({
      kind: 'nested_repository',
      nested: [
        { path: 'a/b/deep', gitDir: 'directory' },
        { path: 'pointed', gitDir: 'elsewhere' },
      ],
    });
    expect(existsSync(marker)).toBe(false);
  });

  it('once removed as the message says, the files commit as ordinary files', async () => {
    const wt = taskWorktree();
    evilRepository(wt, 'sub', path.join(temps[0]!, 'filter-ran'));
    expect((await commitAll(wt, '1A: work')).kind).toBe('nested_repository');
    rmSync(path.join(wt, 'sub', '.git'), { recursive: true, force: true });
    expect(await commitAll(wt, '1A: work')).toMatchObject({ kind: 'committed' });
    expect(git(wt, 'ls-files', '-s', 'sub').split('\n').map((l) => l.split(' ')[0])).toEqual(['100644', '100644']);
  });

  it('a real submodule (its git folder under the repository’s own) is committed as before', async () => {
    const wt = taskWorktree();
    const upstream = makeRepo();
    try {
      git(wt, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', upstream.root, 'lib');
      writeFileSync(path.join(wt, 'work.txt'), 'work\n');
      expect(await commitAll(wt, '1A: with submodule')).toMatchObject({ kind: 'committed' });
      expect(git(wt, 'ls-files', '-s', 'lib')).toMatch(/^160000 /);
    } finally {
      upstream.cleanup();
    }
  });
});

describe('nestedRepositoryCandidates', () => {
  it('takes gitlinks from the index and folders from the untracked list, nothing else', () => {
    const out = ['100644 0123456789abcdef0123456789abcdef01234567 0\ta.txt', '160000 0123456789abcdef0123456789abcdef01234567 0\tlib/x', 'new.txt', 'sub/', 'odd name/'].join('\0') + '\0';
    expect(nestedRepositoryCandidates(out)).toEqual(['lib/x', 'odd name', 'sub']);
  });
});
