import { existsSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

it('a link a task commits in place of an ignored folder of yours: the advance of your checkout keeps the folder and its files', async () => {
  const workOn = (id: string) => `milestone ${id}:`;
  const repo = makeEngineRepo(
    { '1A': milestone('1A') },
    // `conf/` ignores a folder, not a link named conf: git add -A commits the link.
    { rules: [{ match: workOn('1A'), run: { steps: [{ bash: 'rm -rf conf && ln -s /tmp/somewhere-else conf && echo > 1A.txt' }] } }] },
    { review: { enabled: false, max_rounds: 1 }, worktrees: { copy_files: ['conf/deep/app.env'] } },
  );
  cleanup = repo.cleanup;
  repo.write('.gitignore', 'conf/\n');
  const base = repo.commit('ignore conf');
  repo.write('conf/deep/app.env', 'SECRET=1\n');
  const result = await runCli([], { cwd: repo.root, env: repo.env });
  expect(readState(repo.root).tasks['1A'].status, result.stdout + result.stderr).toBe('done');
  expect(lstatSync(path.join(repo.root, 'conf')).isDirectory()).toBe(true);
  expect(readFileSync(path.join(repo.root, 'conf/deep/app.env'), 'utf8')).toBe('SECRET=1\n');
  expect(repo.git('rev-parse', 'main')).toBe(base);
  expect(repo.git('ls-tree', '--name-only', readState(repo.root).integrationBranch)).toContain('conf');
  expect(result.stdout + result.stderr).toContain('--no-overwrite-ignore');
  expect(existsSync(path.join(repo.root, '1A.txt'))).toBe(false);
});
