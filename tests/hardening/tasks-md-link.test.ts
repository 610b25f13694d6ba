import { afterEach, describe, expect, it } from 'vitest';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone } from '../support/engine-fixture.js';
import { makeRepo, snapshotRepo } from '../support/git-repo.js';
import { tasksMdProblem, writeTasksMd } from '../../src/report/tasks-md.js';
import { pathInGit } from '../../src/git/repo.js';
import { execFileSync } from 'node:child_process';
import { emptyUsage, type RunState } from '../../src/state/run-state.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const SCRIPT = { rules: [{ match: 'milestone 1A:', run: { steps: [{ write: 'a.txt', content: 'a\n' }] } }] };

describe('a TASKS.md that is not a regular file', () => {
  it('a committed symbolic link: a run and --validate-only refuse (exit 2) naming it and what to do; nothing is touched', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, SCRIPT);
    cleanup = repo.cleanup;
    repo.write('docs/progress.md', '# progress, kept by hand\n');
    symlinkSync('docs/progress.md', path.join(repo.root, 'TASKS.md'));
    repo.commit('TASKS.md is a link');
    const before = snapshotRepo(repo);

    for (const args of [[], ['--validate-only']]) {
      const r = await runCli(args, { cwd: repo.root, env: repo.env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain('TASKS.md: error: TASKS.md is a symbolic link (to docs/progress.md); the orchestrator writes its progress block into TASKS.md and neither replaces a link nor writes through one');
      expect(r.stderr).toContain('hint: remove the link (git rm TASKS.md && git commit');
    }
    expect(lstatSync(path.join(repo.root, 'TASKS.md')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(repo.root, 'TASKS.md'))).toBe('docs/progress.md');
    expect(readFileSync(path.join(repo.root, 'docs/progress.md'), 'utf8')).toBe('# progress, kept by hand\n');
    expect(snapshotRepo(repo)).toBe(before);
  });

  it('writeTasksMd never replaces a link or a folder', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, SCRIPT);
    cleanup = repo.cleanup;
    const state: RunState = {
      version: 1, runId: 'r1', status: 'running', startedAt: '2026-11-30T10:00:00.000Z', updatedAt: '2026-11-30T10:00:00.000Z',
      targetBranch: 'main', targetStartSha: 'a'.repeat(40), selected: ['1A'], stages: [{ stage: 1, status: 'running' }],
      tasks: { '1A': { id: '1A', stage: 1, title: 'T', status: 'running', branch: 'milestone/1A', worktree: 'w/1A', attempts: 0, turns: 0, costUsd: 0, usage: emptyUsage(), durationMs: 0, transcripts: [] } },
      logDir: 'logs/run-r1',
    };
    repo.write('elsewhere.md', 'theirs\n');
    symlinkSync('elsewhere.md', path.join(repo.root, 'TASKS.md'));
    await writeTasksMd(path.join(repo.root, 'TASKS.md'), state);
    expect(lstatSync(path.join(repo.root, 'TASKS.md')).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(repo.root, 'elsewhere.md'), 'utf8')).toBe('theirs\n');
    const folder = path.join(repo.root, 'sub');
    mkdirSync(path.join(folder, 'TASKS.md'), { recursive: true });
    await writeTasksMd(path.join(folder, 'TASKS.md'), state);
    expect(lstatSync(path.join(folder, 'TASKS.md')).isDirectory()).toBe(true);
  });
});

describe('the hint for a TASKS.md link works as printed', () => {
  const cases = [
    { how: 'committed', setUp: (repo: ReturnType<typeof makeRepo>) => repo.commit('TASKS.md is a link'), expect: /git rm TASKS\.md && git commit/ },
    { how: 'staged', setUp: (repo: ReturnType<typeof makeRepo>) => repo.git('add', 'TASKS.md'), expect: /git rm -f TASKS\.md\)/ },
    { how: 'untracked', setUp: () => undefined, expect: /\(rm TASKS\.md\)/ },
  ] as const;
  for (const c of cases) {
    it(`a link that is ${c.how}: the command in the hint removes the link (only it) and the refusal goes away`, async () => {
      const repo = makeRepo();
      cleanup = repo.cleanup;
      repo.write('docs/progress.md', '# progress, kept by hand\n');
      repo.commit('progress');
      symlinkSync('docs/progress.md', path.join(repo.root, 'TASKS.md'));
      c.setUp(repo);
      const problem = tasksMdProblem(repo.root, await pathInGit(repo.root, 'TASKS.md'));
      expect(problem?.hint).toMatch(c.expect);
      const command = /^remove the link \((.+?)\) or replace it/.exec(problem!.hint!)![1]!;
      execFileSync('sh', ['-c', command], { cwd: repo.root, env: { ...process.env, GIT_AUTHOR_NAME: 'U', GIT_AUTHOR_EMAIL: 'u@example.com', GIT_COMMITTER_NAME: 'U', GIT_COMMITTER_EMAIL: 'u@example.com' } });
      expect(tasksMdProblem(repo.root, await pathInGit(repo.root, 'TASKS.md'))).toBeUndefined();
      expect(readFileSync(path.join(repo.root, 'docs/progress.md'), 'utf8')).toBe('# progress, kept by hand\n');
      expect(repo.git('status', '--porcelain')).toBe('');
    });
  }
});
