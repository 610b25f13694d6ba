import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, realpathSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { orchestratorDataDir } from '../../src/config/data-dir.js';

/** A real git repository in a temp dir, with one commit, for tests. */
export interface TempRepo {
  root: string;
  git: (...args: string[]) => string;
  write: (file: string, content: string) => void;
  commit: (message: string) => string;
  cleanup: () => void;
}

export function makeRepo(opts: { branch?: string } = {}): TempRepo {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'mo-repo-')));
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.com' },
    }).trim();
  git('init', '-q', '-b', opts.branch ?? 'main');
  git('config', 'user.name', 'Test');
  git('config', 'user.email', 't@example.com');
  git('config', 'commit.gpgsign', 'false');
  const write = (file: string, content: string) => {
    const full = path.join(root, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
  };
  const commit = (message: string) => {
    git('add', '-A');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  write('README.md', '# test repo\n');
  commit('initial');
  // The worktrees and logs a run made for this repository live outside it (in the tests' XDG_CACHE_HOME): remove them too.
  const cleanup = () => {
    rmSync(root, { recursive: true, force: true });
    rmSync(orchestratorDataDir(root, process.env), { recursive: true, force: true });
  };
  return { root, git, write, commit, cleanup };
}

/** Everything about a repo a run must not change behind the user's back. */
export function snapshotRepo(repo: TempRepo): string {
  return [
    repo.git('status', '--porcelain', '--untracked-files=all'),
    repo.git('for-each-ref', '--format=%(refname) %(objectname)'),
    repo.git('worktree', 'list', '--porcelain'),
    repo.git('stash', 'list'),
  ].join('\n---\n');
}

/** This project's own example plan (`milestones/`), a small real plan that validates cleanly. */
const EXAMPLE_MILESTONES = fileURLToPath(new URL('../../milestones', import.meta.url));

/** A temporary repository with the example plan committed under `milestones/`. */
export function makeRepoWithExample(): TempRepo {
  const r = makeRepo();
  cpSync(EXAMPLE_MILESTONES, path.join(r.root, 'milestones'), { recursive: true });
  r.commit('add milestones');
  return r;
}
