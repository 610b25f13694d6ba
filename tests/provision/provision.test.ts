import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findWritesThroughLinks, isDependencyInstall, linkTree, provisionDependencies } from '../../src/provision/index.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

function tempDir(base = tmpdir()): string {
  const dir = realpathSync(mkdtempSync(path.join(base, 'mo-prov-')));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function write(file: string, content: string, mode?: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  if (mode !== undefined) chmodSync(file, mode);
}

/** A package `hello` as npm installs it: main module, a bin script, the .bin link, npm's hidden lockfile. */
function installHello(root: string, version = '1.0.0'): void {
  const nm = path.join(root, 'node_modules');
  write(path.join(nm, 'hello/package.json'), JSON.stringify({ name: 'hello', version, main: 'lib/index.js', bin: { hello: 'bin/hello.js' } }));
  write(path.join(nm, 'hello/lib/index.js'), `module.exports = require('./words.js').greeting;\n`);
  write(path.join(nm, 'hello/lib/words.js'), `exports.greeting = 'hello from ${version}';\n`);
  write(path.join(nm, 'hello/bin/hello.js'), `#!/usr/bin/env node\nconsole.log(require('../lib/index.js'));\n`, 0o755);
  mkdirSync(path.join(nm, '.bin'), { recursive: true });
  symlinkSync('../hello/bin/hello.js', path.join(nm, '.bin/hello'));
  write(path.join(nm, '.package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, packages: { 'node_modules/hello': { version } } }));
}

function lockfile(version = '1.0.0'): string {
  return JSON.stringify({ name: 'app', lockfileVersion: 3, packages: { '': { name: 'app', dependencies: { hello: version } }, 'node_modules/hello': { version } } }, null, 2);
}

/** A repository whose main checkout has node_modules installed from its lockfile, and a fresh worktree. */
function project(opts: { ignore?: boolean; worktreeBase?: string } = {}): { repo: TempRepo; worktree: string } {
  const repo = makeRepo();
  cleanups.push(repo.cleanup);
  repo.write('package.json', JSON.stringify({ name: 'app', dependencies: { hello: '1.0.0' } }));
  repo.write('package-lock.json', lockfile());
  if (opts.ignore !== false) repo.write('.gitignore', 'node_modules/\n');
  repo.commit('app');
  installHello(repo.root);
  const worktree = path.join(opts.worktreeBase ?? path.join(repo.root, '.worktree'), '1A');
  mkdirSync(path.dirname(worktree), { recursive: true });
  repo.git('worktree', 'add', '-q', '-b', 'milestone/1A', worktree);
  cleanups.push(() => rmSync(worktree, { recursive: true, force: true }));
  return { repo, worktree };
}

const node = (cwd: string, ...args: string[]): string => execFileSync(process.execPath, args, { cwd, encoding: 'utf8' }).trim();

describe('linkTree', () => {
  it('recreates files, nested dirs and symlinks, hard-linking each file', async () => {
    const src = tempDir();
    const dst = path.join(tempDir(), 'copy');
    write(path.join(src, 'a.txt'), 'a');
    write(path.join(src, 'deep/er/b.txt'), 'b');
    write(path.join(src, 'run.sh'), '#!/bin/sh\necho ran\n', 0o755);
    symlinkSync('deep/er/b.txt', path.join(src, 'rel-link'));
    symlinkSync(path.join(src, 'a.txt'), path.join(src, 'abs-inside'));
    symlinkSync('/etc/hostname', path.join(src, 'abs-outside'));
    symlinkSync('missing', path.join(src, 'dangling'));

    const stats = await linkTree(src, dst, { method: 'hardlink' });

    expect(stats).toEqual({ files: 3, dirs: 3, symlinks: 4, copied: 0, skipped: 0 });
    expect(readFileSync(path.join(dst, 'deep/er/b.txt'), 'utf8')).toBe('b');
    expect(statSync(path.join(dst, 'a.txt')).ino).toBe(statSync(path.join(src, 'a.txt')).ino);
    expect(statSync(path.join(dst, 'run.sh')).mode & 0o111).not.toBe(0);
    expect(execFileSync(path.join(dst, 'run.sh'), { encoding: 'utf8' })).toBe('ran\n');
    expect(lstatSync(path.join(dst, 'rel-link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(dst, 'rel-link'))).toBe('deep/er/b.txt');
    expect(readlinkSync(path.join(dst, 'abs-inside'))).toBe(path.join(dst, 'a.txt'));
    expect(readlinkSync(path.join(dst, 'abs-outside'))).toBe('/etc/hostname');
    expect(readlinkSync(path.join(dst, 'dangling'))).toBe('missing');
    // Directories are the copy's own: a new file in the copy does not appear in the source.
    writeFileSync(path.join(dst, 'deep/new.txt'), 'new');
    expect(existsSync(path.join(src, 'deep/new.txt'))).toBe(false);
  });

  it('copies instead of linking across filesystems', async () => {
    const shm = '/dev/shm';
    if (!existsSync(shm) || statSync(shm).dev === statSync(tmpdir()).dev) return; // no second filesystem here
    const src = tempDir(shm);
    write(path.join(src, 'x/y.txt'), 'y');
    const dst = path.join(tempDir(), 'copy');
    const stats = await linkTree(src, dst, { method: 'hardlink' });
    expect(stats.copied).toBe(1);
    expect(readFileSync(path.join(dst, 'x/y.txt'), 'utf8')).toBe('y');
    expect(statSync(path.join(dst, 'x/y.txt')).nlink).toBe(1);
  });
});

describe('provisionDependencies', () => {
  it('links node_modules into a worktree with the same lockfile; packages and .bin run from the copy', async () => {
    const { repo, worktree } = project();
    const logs: string[] = [];
    const result = await provisionDependencies({ repoRoot: repo.root, worktree, mode: 'auto', log: (m) => logs.push(m) });

    expect(result).toMatchObject({ kind: 'linked', files: 5, symlinks: 1, copied: 0 });
    expect(['hardlink', 'reflink']).toContain(result.method);
    expect(logs.join('\n')).toMatch(/node_modules/);
    expect(node(worktree, '-e', "console.log(require('hello'))")).toBe('hello from 1.0.0');
    expect(execFileSync(path.join(worktree, 'node_modules/.bin/hello'), { cwd: worktree, encoding: 'utf8' }).trim()).toBe('hello from 1.0.0');
    // The .bin link resolves inside the worktree's copy, not the main checkout's.
    expect(realpathSync(path.join(worktree, 'node_modules/.bin/hello'))).toBe(path.join(worktree, 'node_modules/hello/bin/hello.js'));
    // Nothing for the task to commit, nothing left beside the worktree.
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: worktree, encoding: 'utf8' })).toBe('');
    expect(existsSync(path.join(path.dirname(worktree), '.1A.node_modules.provisioning'))).toBe(false);
  });

  it('skips, changing nothing, when the worktree lockfile differs from the main checkout', async () => {
    const { repo, worktree } = project();
    writeFileSync(path.join(worktree, 'package-lock.json'), lockfile('2.0.0'));
    const result = await provisionDependencies({ repoRoot: repo.root, worktree });
    expect(result.kind).toBe('skipped');
    expect(result.reason).toMatch(/package-lock\.json differs/);
    expect(existsSync(path.join(worktree, 'node_modules'))).toBe(false);
  });

  it('skips when the main checkout installed something else than its lockfile says', async () => {
    const { repo, worktree } = project();
    rmSync(path.join(repo.root, 'node_modules'), { recursive: true });
    installHello(repo.root, '0.9.0');
    const result = await provisionDependencies({ repoRoot: repo.root, worktree });
    expect(result).toMatchObject({ kind: 'skipped' });
    expect(result.reason).toMatch(/hello@0\.9\.0.*wants 1\.0\.0/);
  });

  it('skips workspaces whose packages have their own node_modules (only the root one is linked)', async () => {
    const { repo, worktree } = project();
    const hidden = path.join(repo.root, 'node_modules/.package-lock.json');
    const doc = JSON.parse(readFileSync(hidden, 'utf8'));
    doc.packages['packages/web/node_modules/hello'] = { version: '1.0.0' };
    writeFileSync(hidden, JSON.stringify(doc));
    const result = await provisionDependencies({ repoRoot: repo.root, worktree });
    expect(result.reason).toMatch(/outside the root node_modules/);
  });

  it('skips when git does not ignore node_modules, when there is none, when off', async () => {
    const bare = project({ ignore: false });
    expect((await provisionDependencies({ repoRoot: bare.repo.root, worktree: bare.worktree })).reason).toMatch(/does not ignore/);
    expect(existsSync(path.join(bare.worktree, 'node_modules'))).toBe(false);

    const { repo, worktree } = project();
    expect((await provisionDependencies({ repoRoot: repo.root, worktree, mode: 'off' })).reason).toMatch(/off/);
    rmSync(path.join(repo.root, 'node_modules'), { recursive: true });
    expect((await provisionDependencies({ repoRoot: repo.root, worktree })).reason).toMatch(/no node_modules/);
  });

  it('skips a worktree on another filesystem (a full copy would cost as much disk as an install)', async () => {
    const shm = '/dev/shm';
    if (!existsSync(shm) || statSync(shm).dev === statSync(tmpdir()).dev) return;
    const { repo, worktree } = project({ worktreeBase: tempDir(shm) });
    const result = await provisionDependencies({ repoRoot: repo.root, worktree, mode: 'auto' });
    expect(result.reason).toMatch(/another filesystem/);
    expect(existsSync(path.join(worktree, 'node_modules'))).toBe(false);
  });

  it('hard links share content: an in-place write reaches the main checkout and is reported; a replacement is not', async () => {
    const { repo, worktree } = project();
    const result = await provisionDependencies({ repoRoot: repo.root, worktree, mode: 'hardlink' });
    expect(result.method).toBe('hardlink');
    const since = result.since!;
    await new Promise((r) => setTimeout(r, 20)); // mtime granularity

    // Replacing a file (what npm, git and atomic saves do) leaves the main checkout alone.
    const words = path.join(worktree, 'node_modules/hello/lib/words.js');
    writeFileSync(`${words}.tmp`, "exports.greeting = 'patched';\n");
    renameSync(`${words}.tmp`, words);
    expect(node(repo.root, '-e', "console.log(require('hello'))")).toBe('hello from 1.0.0');
    expect(await findWritesThroughLinks({ worktree, since })).toEqual([]);

    // Writing in place goes through the link.
    appendFileSync(path.join(worktree, 'node_modules/hello/lib/index.js'), '// edited in the worktree\n');
    expect(readFileSync(path.join(repo.root, 'node_modules/hello/lib/index.js'), 'utf8')).toMatch(/edited in the worktree/);
    expect(await findWritesThroughLinks({ worktree, since })).toEqual(['node_modules/hello/lib/index.js']);
  });
});

describe('isDependencyInstall', () => {
  it('recognises plain installs of the locked dependencies only', () => {
    for (const c of ['npm ci', 'npm install', 'npm i', ' npm ci --no-audit --prefer-offline ', 'pnpm install --frozen-lockfile', 'yarn', 'yarn install --immutable', 'bun install']) {
      expect(isDependencyInstall(c), c).toBe(true);
    }
    for (const c of ['npm ci && npm run build', 'npm install left-pad', 'npm run build', 'cp .env.example .env', 'yarn build']) {
      expect(isDependencyInstall(c), c).toBe(false);
    }
  });
});
