import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { advanceTarget, mergeInWorktree, mergeLockReason } from '../../src/git/merge.js';
import { commitAll } from '../../src/git/commit.js';
import { ensureExcluded, prepareTaskWorktree } from '../../src/git/worktree.js';
import { inspectRepo } from '../../src/git/repo.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo;
afterEach(() => repo?.cleanup());

async function taskBranch(r: TempRepo, id: string, base: string, file: string, content: string): Promise<string> {
  const wt = path.join(r.root, '.worktree', id);
  const out = await prepareTaskWorktree({ repoRoot: r.root, worktreePath: wt, branch: `milestone/${id}`, baseSha: base, reuse: false });
  expect(out.kind).toBe('created');
  writeFileSync(path.join(wt, file), content);
  const committed = await commitAll(wt, `${id}: work`);
  expect(committed).toMatchObject({ kind: 'committed', sha: expect.stringMatching(/^[0-9a-f]{40}$/) });
  return wt;
}

describe('worktrees and merges', () => {
  it('creates task worktrees on their own branches and refuses leftovers unless resuming', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    await taskBranch(repo, '1A', base, 'a.txt', 'a\n');
    const again = await prepareTaskWorktree({ repoRoot: repo.root, worktreePath: path.join(repo.root, '.worktree', '1A'), branch: 'milestone/1A', baseSha: base, reuse: false });
    expect(again.kind).toBe('leftover');
    const reused = await prepareTaskWorktree({ repoRoot: repo.root, worktreePath: path.join(repo.root, '.worktree', '1A'), branch: 'milestone/1A', baseSha: base, reuse: true });
    expect(reused.kind).toBe('reused');
  });

  it('refuses to reuse a registered worktree whose folder is no longer one (deleted, then written into again)', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    const wt = await taskBranch(repo, '1A', base, 'a.txt', 'a\n');
    rmSync(wt, { recursive: true, force: true });
    mkdirSync(wt);
    writeFileSync(path.join(wt, '1A.fix'), 'late write\n');
    const broken = await prepareTaskWorktree({ repoRoot: repo.root, worktreePath: wt, branch: 'milestone/1A', baseSha: base, reuse: true });
    expect(broken).toMatchObject({ kind: 'leftover', message: expect.stringContaining('no longer a git worktree') });
    rmSync(wt, { recursive: true, force: true });
    const again = await prepareTaskWorktree({ repoRoot: repo.root, worktreePath: wt, branch: 'milestone/1A', baseSha: base, reuse: true });
    expect(again.kind).toBe('reused');
    expect(readFileSync(path.join(wt, 'a.txt'), 'utf8')).toBe('a\n');
  });

  it('merges branches in order outside the user tree and moves a clean checked-out target by fast-forward', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    await taskBranch(repo, '1A', base, 'a.txt', 'a\n');
    await taskBranch(repo, '1B', base, 'b.txt', 'b\n');
    const info = (await inspectRepo(repo.root)).repo!;
    await ensureExcluded(info.commonDir, ['/.worktree/']);
    const merged = await mergeInWorktree({
      repoRoot: repo.root,
      mergeWorktreePath: path.join(repo.root, '.worktree', '_merge'),
      baseSha: base,
      branches: [
        { branch: 'milestone/1A', message: 'Merge milestone 1A' },
        { branch: 'milestone/1B', message: 'Merge milestone 1B' },
      ],
    });
    expect(merged.ok).toBe(true);
    expect(repo.git('rev-parse', 'main')).toBe(base); // untouched until advanced
    const moved = await advanceTarget({ repoRoot: repo.root, target: 'main', expectedOld: base, newSha: merged.sha, integrationBranch: 'milestone/integration', ownFiles: [] });
    expect(moved).toEqual({ moved: true, how: 'fast-forward', setAside: [] });
    expect(repo.git('rev-parse', 'main')).toBe(merged.sha);
    expect(readFileSync(path.join(repo.root, 'b.txt'), 'utf8')).toBe('b\n');
    expect(repo.git('log', '--format=%s', '-2', 'main').split('\n')).toEqual(['Merge milestone 1B', 'Merge milestone 1A']);
  });

  it('keeps the result on the integration branch when the user has uncommitted changes', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    await taskBranch(repo, '1A', base, 'a.txt', 'a\n');
    const info = (await inspectRepo(repo.root)).repo!;
    await ensureExcluded(info.commonDir, ['/.worktree/']);
    repo.write('README.md', '# my unsaved edit\n');
    const merged = await mergeInWorktree({ repoRoot: repo.root, mergeWorktreePath: path.join(repo.root, '.worktree', '_merge'), baseSha: base, branches: [{ branch: 'milestone/1A', message: 'm' }] });
    const moved = await advanceTarget({ repoRoot: repo.root, target: 'main', expectedOld: base, newSha: merged.sha, integrationBranch: 'milestone/integration', ownFiles: [] });
    expect(moved.moved).toBe(false);
    expect(repo.git('rev-parse', 'main')).toBe(base);
    expect(repo.git('rev-parse', 'milestone/integration')).toBe(merged.sha);
    expect(readFileSync(path.join(repo.root, 'README.md'), 'utf8')).toBe('# my unsaved edit\n');
  });

  it('moves a target that is not checked out with a compare-and-swap ref update', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    repo.git('branch', 'release');
    await taskBranch(repo, '1A', base, 'a.txt', 'a\n');
    const merged = await mergeInWorktree({ repoRoot: repo.root, mergeWorktreePath: path.join(repo.root, '.worktree', '_merge'), baseSha: base, branches: [{ branch: 'milestone/1A', message: 'm' }] });
    const moved = await advanceTarget({ repoRoot: repo.root, target: 'release', expectedOld: base, newSha: merged.sha, integrationBranch: 'x/integration', ownFiles: [] });
    expect(moved).toEqual({ moved: true, how: 'update-ref', setAside: [] });
    expect(repo.git('rev-parse', 'release')).toBe(merged.sha);
    expect(repo.git('rev-parse', 'main')).toBe(base);
  });

  it('reports a conflict, aborts it, and returns the result merged so far', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    await taskBranch(repo, '1A', base, 'same.txt', 'from A\n');
    await taskBranch(repo, '1B', base, 'same.txt', 'from B\n');
    const merged = await mergeInWorktree({
      repoRoot: repo.root,
      mergeWorktreePath: path.join(repo.root, '.worktree', '_merge'),
      baseSha: base,
      branches: [
        { branch: 'milestone/1A', message: 'm1' },
        { branch: 'milestone/1B', message: 'm2' },
      ],
    });
    expect(merged.ok).toBe(false);
    if (merged.ok) return;
    expect(merged.conflict.branch).toBe('milestone/1B');
    expect(merged.conflict.files).toEqual(['same.txt']);
    expect(merged.merged).toEqual(['milestone/1A']);
    expect(repo.git('rev-parse', 'main')).toBe(base);
    // The merge worktree is reusable afterwards: a fresh merge from the base works.
    const again = await mergeInWorktree({ repoRoot: repo.root, mergeWorktreePath: path.join(repo.root, '.worktree', '_merge'), baseSha: base, branches: [{ branch: 'milestone/1B', message: 'm2' }] });
    expect(again.ok).toBe(true);
  });
});

describe('the merge worktree lock', () => {
  it('is locked with the run while merging (a resolver sees it), and unlocked afterwards', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    await taskBranch(repo, '1A', base, 'same.txt', 'from A\n');
    await taskBranch(repo, '1B', base, 'same.txt', 'from B\n');
    const mergeWt = path.join(repo.root, '.worktree', '_merge');
    let seen = '';
    const merged = await mergeInWorktree({
      repoRoot: repo.root,
      mergeWorktreePath: mergeWt,
      baseSha: base,
      branches: [
        { branch: 'milestone/1A', message: 'm1' },
        { branch: 'milestone/1B', message: 'm2' },
      ],
      lockReason: mergeLockReason('run-7'),
      resolve: async () => {
        seen = repo.git('worktree', 'list', '--porcelain');
        return false;
      },
    });
    expect(merged.ok).toBe(false);
    expect(seen).toContain('locked milestone-orchestrator run run-7, merge');
    expect(repo.git('worktree', 'list', '--porcelain')).not.toContain('locked');
  });
});

describe('concurrent worktree creation', () => {
  it('creates many task worktrees at once without git racing itself', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    const ids = ['1A', '1B', '1C', '1D', '1E', '1F', '1G', '1H'];
    const outcomes = await Promise.all(
      ids.map((id) => prepareTaskWorktree({ repoRoot: repo.root, worktreePath: path.join(repo.root, '.worktree', id), branch: `milestone/${id}`, baseSha: base, reuse: false })),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(ids.map(() => 'created'));
    expect(repo.git('worktree', 'list').split('\n')).toHaveLength(ids.length + 1);
  });
});
