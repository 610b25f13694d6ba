import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ENV = { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.com' };

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: ENV, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Git with the file protocol allowed, as a user adding local submodules must. */
export function gitFile(cwd: string, ...args: string[]): string {
  return git(cwd, '-c', 'protocol.file.allow=always', ...args);
}

function repo(dir: string, file: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(dir, file), `${file}\n`);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', file);
}

/**
 * `remotes/leaf` ← submodule `deps/leaf` of `remotes/mid` ← submodule `lib/mid` of the superproject `remotes/app`,
 * with relative URLs (as on a hosting service); `app` is the user's clone of it, submodules initialised. Remotes
 * are file:// URLs: `offline()` moves them away so that any fetch from them fails, like a network that is down.
 */
export function nestedSubmodules(): { base: string; app: string; remotes: string; offline: () => void; online: () => void; cleanup: () => void } {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'mo-sub-')));
  const remotes = path.join(base, 'remotes');
  repo(path.join(remotes, 'leaf'), 'leaf.txt');
  repo(path.join(remotes, 'mid'), 'mid.txt');
  gitFile(path.join(remotes, 'mid'), 'submodule', 'add', '-q', '../leaf', 'deps/leaf');
  git(path.join(remotes, 'mid'), 'commit', '-q', '-m', 'add leaf');
  repo(path.join(remotes, 'app'), 'README.md');
  gitFile(path.join(remotes, 'app'), 'submodule', 'add', '-q', '../mid', 'lib/mid');
  git(path.join(remotes, 'app'), 'commit', '-q', '-m', 'add mid');
  const app = path.join(base, 'app');
  gitFile(base, 'clone', '-q', '--recurse-submodules', `file://${path.join(remotes, 'app')}`, app);
  git(app, 'config', 'user.name', 'Test');
  git(app, 'config', 'user.email', 't@example.com');
  const away = path.join(base, 'remotes-away');
  return {
    base,
    app,
    remotes,
    offline: () => execFileSync('mv', [remotes, away]),
    online: () => execFileSync('mv', [away, remotes]),
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}
