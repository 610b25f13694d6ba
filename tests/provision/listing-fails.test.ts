import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeRepo } from '../support/git-repo.js';
import { installHello, lockfile, write } from './fixture.js';

// A folder whose listing fails half-way (Linux answers ENOENT when the folder is removed while it is read: another
// task removing its partial copy) while the copy of a sub-folder already started and fails too. The walk used to
// leave that sub-folder's promise unawaited: an unhandled rejection, which ends the whole Node process.
const failing = new Set<string>();
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    opendir: async (dir: string, opts?: Parameters<typeof real.opendir>[1]) => {
      const handle = await real.opendir(dir, opts);
      if (!failing.has(path.basename(dir))) return handle;
      return (async function* () {
        for await (const entry of handle) yield entry;
        // Let the sub-folders' copies run (and fail) first.
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw Object.assign(new Error(`ENOENT: no such file or directory, scandir '${dir}'`), { code: 'ENOENT' });
      })();
    },
  };
});

const { linkTree } = await import('../../src/provision/link-tree.js');
const { provisionDependencies } = await import('../../src/provision/provision.js');

let dir: string | undefined;
const cleanups: (() => void)[] = [];
afterEach(() => {
  failing.clear();
  for (const fn of cleanups.splice(0)) fn();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a listing that fails during a copy', () => {
  it('rejects the copy once, after every file operation has settled: no unhandled rejection', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mo-listing-'));
    const src = path.join(dir, 'src');
    write(path.join(src, 'top/a/file.js'), 'a\n');
    write(path.join(src, 'top/b/file.js'), 'b\n');
    failing.add('top');
    failing.add('a');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(linkTree(src, path.join(dir, 'dst'), { method: 'copy' })).rejects.toThrow(/ENOENT/);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('provisioning answers skipped with the reason, no unhandled rejection, and removes its partial copy', async () => {
    const repo = makeRepo();
    cleanups.push(repo.cleanup);
    repo.write('package.json', JSON.stringify({ name: 'app', dependencies: { hello: '1.0.0' } }));
    repo.write('package-lock.json', lockfile());
    repo.write('.gitignore', 'node_modules/\n');
    repo.commit('app');
    installHello(repo.root);
    const worktree = path.join(repo.root, '.worktree', '1A');
    repo.git('worktree', 'add', '-q', '-b', 'milestone/1A', worktree);
    failing.add('hello');
    failing.add('lib');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    let result;
    try {
      result = await provisionDependencies({ repoRoot: repo.root, worktree, mode: 'auto' });
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(result).toMatchObject({ kind: 'skipped', reason: expect.stringMatching(/failed: ENOENT/) });
    expect(existsSync(path.join(worktree, 'node_modules'))).toBe(false);
    expect(readdirSync(path.dirname(worktree))).toEqual(['1A']);
  });
});
