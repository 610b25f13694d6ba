import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initSubmodules } from '../../src/git/submodules.js';
import { git, gitFile, nestedSubmodules } from '../repos/submodule-repos.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function newWorktree(app: string, name: string): string {
  const wt = path.join(path.dirname(app), name);
  git(app, 'worktree', 'add', '-q', '-b', `milestone/${name}`, wt);
  return wt;
}

describe('submodules in a new worktree', () => {
  it('initialises nested submodules from the main checkout, with the network down, leaving the main checkout as it was', async () => {
    const s = nestedSubmodules();
    cleanup = s.cleanup;
    s.offline();
    const configBefore = readFileSync(path.join(s.app, '.git', 'config'), 'utf8');
    const wt = newWorktree(s.app, '1A');
    expect(existsSync(path.join(wt, 'lib/mid/mid.txt'))).toBe(false); // what git worktree add leaves

    const result = await initSubmodules(wt, s.app);
    expect(result).toEqual({ local: ['lib/mid', 'lib/mid/deps/leaf'], fetched: [] });
    expect(readFileSync(path.join(wt, 'lib/mid/mid.txt'), 'utf8')).toBe('mid.txt\n');
    expect(readFileSync(path.join(wt, 'lib/mid/deps/leaf/leaf.txt'), 'utf8')).toBe('leaf.txt\n');
    // git sees every level as initialised and at the recorded commit ("-" = not initialised, "+" = other commit).
    const status = git(wt, 'submodule', 'status', '--recursive');
    expect(status.split('\n')).toHaveLength(2);
    expect(status).not.toMatch(/^[-+U]/m);
    // A later fetch goes where the main checkout's clones fetch from, not to the main checkout's folder.
    expect(git(path.join(wt, 'lib/mid'), 'remote', 'get-url', 'origin')).toBe(git(path.join(s.app, 'lib/mid'), 'remote', 'get-url', 'origin'));
    expect(git(path.join(wt, 'lib/mid/deps/leaf'), 'remote', 'get-url', 'origin')).toBe(git(path.join(s.app, 'lib/mid/deps/leaf'), 'remote', 'get-url', 'origin'));
    expect(readFileSync(path.join(s.app, '.git', 'config'), 'utf8')).toBe(configBefore);
    expect(git(s.app, 'status', '--porcelain')).toBe('');
  });

  it('fetches a submodule commit the main checkout does not have from its URL', async () => {
    const s = nestedSubmodules();
    cleanup = s.cleanup;
    // The superproject moves lib/mid to a commit the user's clone has never fetched.
    const mid = path.join(s.remotes, 'mid');
    writeFileSync(path.join(mid, 'new.txt'), 'new\n');
    git(mid, 'add', '-A');
    git(mid, 'commit', '-q', '-m', 'new');
    const upstream = path.join(s.remotes, 'app');
    gitFile(path.join(upstream, 'lib/mid'), 'pull', '-q', 'origin', 'main');
    git(upstream, 'add', 'lib/mid');
    git(upstream, 'commit', '-q', '-m', 'bump mid');
    git(s.app, 'fetch', '-q', '--no-recurse-submodules', 'origin'); // the superproject only: lib/mid's new commit is not in the main checkout
    const wt = path.join(s.base, '1A');
    git(s.app, 'worktree', 'add', '-q', '-b', 'milestone/1A', wt, 'origin/main');

    process.env.GIT_CONFIG_COUNT = '1';
    process.env.GIT_CONFIG_KEY_0 = 'protocol.file.allow';
    process.env.GIT_CONFIG_VALUE_0 = 'always';
    try {
      const result = await initSubmodules(wt, s.app);
      expect(result).toEqual({ local: ['lib/mid/deps/leaf'], fetched: ['lib/mid'] });
    } finally {
      delete process.env.GIT_CONFIG_COUNT;
      delete process.env.GIT_CONFIG_KEY_0;
      delete process.env.GIT_CONFIG_VALUE_0;
    }
    expect(readFileSync(path.join(wt, 'lib/mid/new.txt'), 'utf8')).toBe('new\n');
    expect(existsSync(path.join(wt, 'lib/mid/deps/leaf/leaf.txt'))).toBe(true);
  });

  it('names the submodule that cannot be initialised', async () => {
    const s = nestedSubmodules();
    cleanup = s.cleanup;
    const mid = path.join(s.app, 'lib/mid');
    // The user's clone of lib/mid lacks the recorded commit and its remote is unreachable.
    git(s.app, 'submodule', 'deinit', '-q', '--force', 'lib/mid');
    s.offline();
    const wt = newWorktree(s.app, '1A');
    const result = await initSubmodules(wt, s.app);
    expect(result.problem).toMatchObject({ name: 'lib/mid', path: 'lib/mid' });
    expect(result.problem!.message.length).toBeGreaterThan(0);
    expect(existsSync(path.join(mid, 'mid.txt'))).toBe(false);
  });

  it('never fetches a submodule whose URL only a committed .gitmodules names (a task may have written it), nor writes it into the shared config', async () => {
    const s = nestedSubmodules();
    cleanup = s.cleanup;
    // What an earlier stage's task could commit: a gitlink and a .gitmodules entry with an address of its choosing.
    const task = newWorktree(s.app, '1A');
    const leaf = path.join(s.remotes, 'leaf');
    const leafHead = git(leaf, 'rev-parse', 'HEAD');
    git(task, 'config', '--file', '.gitmodules', 'submodule.x.path', 'x');
    git(task, 'config', '--file', '.gitmodules', 'submodule.x.url', `file://${leaf}`);
    git(task, 'update-index', '--add', '--cacheinfo', `160000,${leafHead},x`);
    git(task, 'add', '.gitmodules');
    git(task, '-c', 'user.name=a', '-c', 'user.email=a@b', 'commit', '-q', '-m', 'x');
    const configBefore = readFileSync(path.join(s.app, '.git', 'config'), 'utf8');
    const next = path.join(path.dirname(s.app), '2A');
    git(s.app, 'worktree', 'add', '-q', '-b', 'milestone/2A', next, 'milestone/1A');
    // The file protocol allowed, so only the orchestrator's refusal stands between git and the fetch.
    process.env.GIT_CONFIG_COUNT = '1';
    process.env.GIT_CONFIG_KEY_0 = 'protocol.file.allow';
    process.env.GIT_CONFIG_VALUE_0 = 'always';
    try {
      const result = await initSubmodules(next, s.app);
      expect(result.problem).toMatchObject({ name: 'x', path: 'x' });
      expect(result.problem!.message).toContain('git submodule update --init -- x');
      expect(result.local).toEqual(['lib/mid', 'lib/mid/deps/leaf']);
    } finally {
      delete process.env.GIT_CONFIG_COUNT;
      delete process.env.GIT_CONFIG_KEY_0;
      delete process.env.GIT_CONFIG_VALUE_0;
    }
    expect(existsSync(path.join(next, 'x', 'leaf.txt'))).toBe(false);
    expect(readFileSync(path.join(s.app, '.git', 'config'), 'utf8')).toBe(configBefore);
  });

  it('does nothing for a repository without submodules', async () => {
    const s = nestedSubmodules();
    cleanup = s.cleanup;
    const leafWt = path.join(s.base, 'leaf-wt');
    git(path.join(s.remotes, 'leaf'), 'worktree', 'add', '-q', leafWt);
    expect(await initSubmodules(leafWt, path.join(s.remotes, 'leaf'))).toEqual({ local: [], fetched: [] });
  });
});
