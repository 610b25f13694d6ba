import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';
import { git, gitFile } from './submodule-repos.js';

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

const workOn = (id: string) => `milestone ${id}:`;

/** A run whose check needs the submodule's files; the submodule's remote is gone (no network). */
function repoWithSubmodule() {
  const repo = makeEngineRepo(
    { '1A': milestone('1A') },
    { rules: [{ match: workOn('1A'), run: { steps: [{ write: 'a.txt', content: 'a\n' }] } }] },
    { review: { enabled: false, max_rounds: 3 }, checks: { commands: ['test -f vendor/lib/lib.txt', 'test -f vendor/lib/inner/inner.txt'] } },
  );
  const remotes = realpathSync(mkdtempSync(path.join(tmpdir(), 'mo-remotes-')));
  cleanups.push(repo.cleanup, () => rmSync(remotes, { recursive: true, force: true }));
  for (const name of ['inner', 'lib']) {
    const dir = path.join(remotes, name);
    git(remotes, 'init', '-q', '-b', 'main', name);
    execFileSync('sh', ['-c', `echo ${name} > ${name}.txt`], { cwd: dir });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', name);
  }
  gitFile(path.join(remotes, 'lib'), 'submodule', 'add', '-q', `file://${path.join(remotes, 'inner')}`, 'inner');
  git(path.join(remotes, 'lib'), 'commit', '-q', '-m', 'inner');
  gitFile(repo.root, 'submodule', 'add', '-q', `file://${path.join(remotes, 'lib')}`, 'vendor/lib');
  gitFile(repo.root, 'submodule', 'update', '--init', '--recursive', '-q');
  repo.commit('vendor/lib as a submodule');
  const offline = () => execFileSync('mv', [remotes, `${remotes}-away`]);
  cleanups.push(() => rmSync(`${remotes}-away`, { recursive: true, force: true }));
  return { repo, offline };
}

describe('a repository with submodules', () => {
  it("initialises the task worktree's nested submodules from the main checkout, offline: the check that needs them passes at once", async () => {
    const { repo, offline } = repoWithSubmodule();
    offline();
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const task = readState(repo.root).tasks['1A'];
    expect(task.status).toBe('done');
    expect(task.rounds).toHaveLength(1);
    expect(readAgentLog(repo.log).filter((r) => r.event === 'start')).toHaveLength(1);
    expect(existsSync(path.join(repo.root, 'a.txt'))).toBe(true);
  });

  it('a submodule that cannot be initialised fails set-up, naming it, before any agent runs', async () => {
    const { repo, offline } = repoWithSubmodule();
    git(repo.root, 'submodule', 'deinit', '-q', '--force', '--all');
    offline();
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(1);
    const task = readState(repo.root).tasks['1A'];
    expect(task.status).toBe('failed');
    expect(task.reason).toContain('submodule vendor/lib (vendor/lib) could not be initialised');
    expect(readAgentLog(repo.log).filter((r) => r.event === 'start')).toHaveLength(0);
  });
});
