import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('worktrees.copy_files', () => {
  it('copies into the worktree, never commits the copies (even after the agent runs git add -A), and copies nothing from outside the repository', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'mo-outside-'));
    writeFileSync(path.join(outside, 'secret.txt'), 'outside secret\n');
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      { rules: [{ match: 'milestone 1A:', run: { steps: [{ write: '1A.txt', content: '1A\n' }, { bash: 'git add -A && git commit -qm "1A: work"' }] } }] },
      { worktrees: { copy_files: ['.env', 'tracked.conf', 'link-out.txt'] } },
    );
    cleanup = () => {
      repo.cleanup();
      rmSync(outside, { recursive: true, force: true });
    };
    // A committed file and a committed link out of the repository; .env is the user's, never committed.
    repo.write('tracked.conf', 'committed\n');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(repo.root, 'link-out.txt'));
    repo.commit('a tracked file and a link');
    repo.write('.env', 'API_URL=http://localhost\n');
    repo.write('tracked.conf', 'locally changed, not committed\n');

    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/worktrees\.copy_files: link-out\.txt leads outside the repository \(to .*secret\.txt\); not copied/);
    const worktree = path.join(repo.root, readState(repo.root).tasks['1A'].worktree);
    expect(readFileSync(path.join(worktree, '.env'), 'utf8')).toBe('API_URL=http://localhost\n');
    expect(readFileSync(path.join(worktree, 'tracked.conf'), 'utf8')).toBe('locally changed, not committed\n');
    // Nothing copied was committed or merged: not .env, not the local change, not the outside file. (main has an
    // uncommitted change, tracked.conf, so the merged result waits on the integration branch.)
    const merged = 'milestone/integration';
    const files = repo.git('ls-tree', '-r', '--name-only', merged).split('\n');
    expect(files).toContain('1A.txt');
    expect(files).not.toContain('.env');
    expect(repo.git('show', `${merged}:tracked.conf`)).toBe('committed');
    expect(repo.git('log', '-p', merged)).not.toContain('outside secret');
    expect(repo.git('log', '-p', 'milestone/1A')).not.toContain('API_URL');
    // The user's own files are as they were.
    expect(readFileSync(path.join(repo.root, '.env'), 'utf8')).toBe('API_URL=http://localhost\n');
    expect(existsSync(path.join(repo.root, '.git', 'info', 'exclude'))).toBe(true);
    expect(readFileSync(path.join(repo.root, '.git', 'info', 'exclude'), 'utf8')).toContain('\n/.env\n');
  });

  it('a link an earlier stage committed where a folder of the path is: nothing is made or written through it', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'mo-outside-'));
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '2A': milestone('2A', { deps: ['1A'] }) },
      {
        rules: [
          // `conf/` in .gitignore ignores a folder, not a link named conf: the orchestrator's git add -A commits it.
          { match: 'milestone 1A:', run: { steps: [{ bash: `rm -rf conf && ln -s ${outside} conf && echo > 1A.txt` }] } },
          { match: 'milestone 2A:', run: { steps: [{ write: '2A.txt', content: '2A\n' }] } },
        ],
      },
      { review: { enabled: false, max_rounds: 1 }, worktrees: { copy_files: ['conf/deep/app.env'] } },
    );
    cleanup = () => {
      repo.cleanup();
      rmSync(outside, { recursive: true, force: true });
    };
    repo.write('.gitignore', 'conf/\n');
    repo.commit('ignore conf');
    repo.write('conf/deep/app.env', 'SECRET=1\n');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(readState(repo.root).tasks['2A'].status, result.stdout + result.stderr).toBe('done');
    expect(result.stdout + result.stderr).toContain('[2A] worktrees.copy_files: the folder of conf/deep/app.env leads outside the worktree; not copied');
    expect(readdirSync(outside)).toEqual([]);
  });
});
