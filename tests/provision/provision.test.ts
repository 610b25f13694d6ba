import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { copyDoesNotFit, findWritesThroughLinks, freeBytes, isDependencyInstall, linkTree, measureTree, provisionDependencies } from '../../src/provision/index.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';
import { installHello, lockfile, write } from './fixture.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

function tempDir(base = tmpdir()): string {
  const dir = realpathSync(mkdtempSync(path.join(base, 'mo-prov-')));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
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

  it('built in a staging folder, absolute links point at where the tree ends up; links into rebase.from into rebase.to', async () => {
    const repo = tempDir();
    const src = path.join(repo, 'node_modules');
    write(path.join(src, 'pkg/index.js'), 'pkg');
    write(path.join(repo, 'packages/lib/index.js'), 'lib');
    symlinkSync(path.join(src, 'pkg'), path.join(src, 'pkg-abs'));
    symlinkSync(path.join(repo, 'packages/lib'), path.join(src, 'lib-abs'));
    symlinkSync('/etc/hostname', path.join(src, 'outside'));
    const worktree = tempDir();
    const staging = path.join(worktree, '.staging');

    await linkTree(src, staging, { method: 'copy', finalPath: path.join(worktree, 'node_modules'), rebase: { from: repo, to: worktree } });

    expect(readlinkSync(path.join(staging, 'pkg-abs'))).toBe(path.join(worktree, 'node_modules/pkg'));
    expect(readlinkSync(path.join(staging, 'lib-abs'))).toBe(path.join(worktree, 'packages/lib'));
    expect(readlinkSync(path.join(staging, 'outside'))).toBe('/etc/hostname');
  });

  it('copy: every file is an independent copy with its mode; symlinks stay symlinks', async () => {
    const src = tempDir();
    const dst = path.join(tempDir(), 'copy');
    write(path.join(src, 'deep/a.txt'), 'a');
    write(path.join(src, 'run.sh'), '#!/bin/sh\necho ran\n', 0o755);
    symlinkSync('deep/a.txt', path.join(src, 'link'));

    const stats = await linkTree(src, dst, { method: 'copy' });

    expect(stats).toEqual({ files: 2, dirs: 2, symlinks: 1, copied: 2, skipped: 0 });
    expect(statSync(path.join(dst, 'deep/a.txt')).ino).not.toBe(statSync(path.join(src, 'deep/a.txt')).ino);
    expect(statSync(path.join(dst, 'deep/a.txt')).nlink).toBe(1);
    expect(execFileSync(path.join(dst, 'run.sh'), { encoding: 'utf8' })).toBe('ran\n');
    expect(readlinkSync(path.join(dst, 'link'))).toBe('deep/a.txt');
    appendFileSync(path.join(dst, 'deep/a.txt'), ' changed');
    expect(readFileSync(path.join(src, 'deep/a.txt'), 'utf8')).toBe('a');
  });

  it('copy keeps files that are hard links of each other in the source linked to each other, not to the source', async () => {
    const src = tempDir();
    const dst = path.join(tempDir(), 'copy');
    write(path.join(src, 'pkg/bin/tool.exe'), 'binary');
    mkdirSync(path.join(src, 'pkg-linux'));
    linkSync(path.join(src, 'pkg/bin/tool.exe'), path.join(src, 'pkg-linux/tool'));
    linkSync(path.join(src, 'pkg/bin/tool.exe'), path.join(src, 'pkg-linux/tool2'));
    const { linkGroups } = await measureTree(src);

    const stats = await linkTree(src, dst, { method: 'copy', linkGroups });

    expect(stats).toMatchObject({ files: 3, copied: 1, linkedWithin: 2 });
    const ino = statSync(path.join(dst, 'pkg/bin/tool.exe')).ino;
    expect(ino).not.toBe(statSync(path.join(src, 'pkg/bin/tool.exe')).ino);
    expect(statSync(path.join(dst, 'pkg-linux/tool')).ino).toBe(ino);
    expect(statSync(path.join(dst, 'pkg-linux/tool2')).ino).toBe(ino);
    expect(statSync(path.join(dst, 'pkg-linux/tool')).nlink).toBe(3);
    expect(readFileSync(path.join(dst, 'pkg-linux/tool2'), 'utf8')).toBe('binary');
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
  it('absolute links in node_modules resolve inside the worktree after the rename; a write through them never reaches the main checkout', async () => {
    const { repo, worktree } = project();
    write(path.join(repo.root, 'packages/lib/index.js'), 'lib\n');
    symlinkSync(path.join(repo.root, 'node_modules/hello'), path.join(repo.root, 'node_modules/hello-abs'));
    symlinkSync(path.join(repo.root, 'packages/lib'), path.join(repo.root, 'node_modules/lib-abs'));
    write(path.join(worktree, 'packages/lib/index.js'), 'lib\n');

    const result = await provisionDependencies({ repoRoot: repo.root, worktree, mode: 'auto' });

    expect(result.kind).toBe('linked');
    expect(realpathSync(path.join(worktree, 'node_modules/hello-abs'))).toBe(path.join(worktree, 'node_modules/hello'));
    appendFileSync(path.join(worktree, 'node_modules/hello-abs/lib/words.js'), '// task\n');
    appendFileSync(path.join(worktree, 'node_modules/lib-abs/index.js'), 'task\n');
    expect(readFileSync(path.join(repo.root, 'node_modules/hello/lib/words.js'), 'utf8')).not.toContain('task');
    expect(readFileSync(path.join(repo.root, 'packages/lib/index.js'), 'utf8')).toBe('lib\n');
  });

  it('a worktree inside the main checkout\'s node_modules is not provisioned (the copy would contain itself)', async () => {
    const repo0 = project();
    const worktree = path.join(repo0.repo.root, 'node_modules/wt/1B');
    repo0.repo.git('worktree', 'add', '-q', '-b', 'milestone/1B', worktree);

    const result = await provisionDependencies({ repoRoot: repo0.repo.root, worktree, mode: 'auto' });

    expect(result).toMatchObject({ kind: 'skipped', reason: expect.stringMatching(/inside the main checkout's node_modules/) });
    expect(existsSync(path.join(worktree, 'node_modules'))).toBe(false);
    expect(existsSync(path.join(repo0.repo.root, 'node_modules/wt/.1B.node_modules.provisioning'))).toBe(false);
  });

  it('auto gives a worktree with the same lockfile its own copy of node_modules; packages and .bin run from it', async () => {
    const { repo, worktree } = project();
    const logs: string[] = [];
    const result = await provisionDependencies({ repoRoot: repo.root, worktree, mode: 'auto', log: (m) => logs.push(m) });

    expect(result).toMatchObject({ kind: 'linked', files: 5, symlinks: 1 });
    // A clone where the filesystem can (btrfs, XFS), a plain copy elsewhere (ext4, tmpfs): never hard links.
    expect(['copy', 'reflink']).toContain(result.method);
    if (result.method === 'copy') {
      expect(result.bytes).toBeGreaterThan(0);
      expect(logs.join('\n')).toMatch(/node_modules copied \(\d+ MB\) from the main checkout: 5 files/);
    } else {
      expect(logs.join('\n')).toMatch(/node_modules cloned \(copy-on-write\) from the main checkout/);
    }
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

  it('auto: a write in place in the worktree\'s node_modules leaves the main checkout alone, and nothing is reported', async () => {
    const { repo, worktree } = project();
    const result = await provisionDependencies({ repoRoot: repo.root, worktree, mode: 'auto' });
    expect(result.kind).toBe('linked');
    await new Promise((r) => setTimeout(r, 20)); // mtime granularity
    appendFileSync(path.join(worktree, 'node_modules/hello/lib/words.js'), "exports.greeting = 'edited in the worktree';\n");
    writeFileSync(path.join(worktree, 'node_modules/hello/lib/index.js'), "module.exports = 'overwritten';\n");

    expect(node(worktree, '-e', "console.log(require('hello'))")).toBe('overwritten');
    expect(node(repo.root, '-e', "console.log(require('hello'))")).toBe('hello from 1.0.0');
    expect(readFileSync(path.join(repo.root, 'node_modules/hello/lib/words.js'), 'utf8')).not.toMatch(/edited/);
    expect(await findWritesThroughLinks({ worktree, since: result.since! })).toEqual([]);
  });

  it('auto copies to a worktree on another filesystem; hardlink skips it', async () => {
    const shm = '/dev/shm';
    if (!existsSync(shm) || statSync(shm).dev === statSync(tmpdir()).dev) return;
    const linked = project({ worktreeBase: tempDir(shm) });
    const logs: string[] = [];
    const refused = await provisionDependencies({ repoRoot: linked.repo.root, worktree: linked.worktree, mode: 'hardlink', log: (m) => logs.push(m) });
    expect(refused.reason).toMatch(/another filesystem/);
    // Asked for by name, so the log says why nothing came of it.
    expect(logs).toEqual([`node_modules not provisioned: ${refused.reason}; the set-up commands run instead`]);
    expect(existsSync(path.join(linked.worktree, 'node_modules'))).toBe(false);

    const result = await provisionDependencies({ repoRoot: linked.repo.root, worktree: linked.worktree, mode: 'auto' });
    expect(result).toMatchObject({ kind: 'linked', method: 'copy', files: 5 });
    expect(node(linked.worktree, '-e', "console.log(require('hello'))")).toBe('hello from 1.0.0');
  });

  it('auto does not copy when the copy would leave less than the reserve free: it says so and writes nothing', async () => {
    const { repo, worktree } = project();
    // Twice what is free now: the disk is shared, and its free space moves while the test runs.
    const reserveBytes = 2 * (await freeBytes(worktree));
    const logs: string[] = [];
    const result = await provisionDependencies({ repoRoot: repo.root, worktree, mode: 'auto', reserveBytes, log: (m) => logs.push(m) });
    if (result.method === 'reflink') return; // clones cost no data blocks: no disk check to exercise here
    expect(result.kind).toBe('skipped');
    expect(result.reason).toMatch(/^copying node_modules \(\d+ MB\) would leave \d+ MB free of \d+ MB, below the \d+ MB kept free \(resources\.min_free_disk_mb\)$/);
    expect(logs).toEqual([`node_modules not provisioned: ${result.reason}; the set-up commands run instead (an install needs as much disk)`]);
    expect(existsSync(path.join(worktree, 'node_modules'))).toBe(false);
    expect(existsSync(path.join(path.dirname(worktree), '.1A.node_modules.provisioning'))).toBe(false);
  });

  it('stops copying when interrupted: the partial copy is removed and nothing is left in the worktree', async () => {
    const { repo, worktree } = project();
    for (let i = 0; i < 500; i++) write(path.join(repo.root, `node_modules/hello/lib/extra-${i}.js`), `// ${i}\n`);
    const controller = new AbortController();
    // Aborted as the copy starts (the first directory it creates is the staging folder).
    const staging = path.join(path.dirname(worktree), '.1A.node_modules.provisioning');
    const watcher = setInterval(() => existsSync(staging) && controller.abort(), 0);
    const result = await provisionDependencies({ repoRoot: repo.root, worktree, mode: 'auto', signal: controller.signal }).finally(() => clearInterval(watcher));
    // 500 files take many event-loop turns to copy, so the check above runs long before the copy could finish.
    expect(controller.signal.aborted).toBe(true);
    expect(result).toMatchObject({ kind: 'skipped', reason: 'interrupted' });
    expect(existsSync(path.join(worktree, 'node_modules'))).toBe(false);
    expect(existsSync(staging)).toBe(false);
  });

  it('linkTree with an aborted signal places nothing and rejects', async () => {
    const src = tempDir();
    write(path.join(src, 'a/b.txt'), 'b');
    const dst = path.join(tempDir(), 'copy');
    const controller = new AbortController();
    controller.abort();
    await expect(linkTree(src, dst, { method: 'copy', signal: controller.signal })).rejects.toThrow();
    expect(existsSync(path.join(dst, 'a/b.txt'))).toBe(false);
  });

  it('hardlink (on request) shares content: an in-place write reaches the main checkout and is reported; a replacement is not', async () => {
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

describe('disk cost of a plain copy', () => {
  it('measureTree counts the blocks of the regular files at any depth, a hard-linked file once, and finds its links', async () => {
    const dir = tempDir();
    write(path.join(dir, 'a/b/c/big.bin'), 'x'.repeat(100_000));
    linkSync(path.join(dir, 'a/b/c/big.bin'), path.join(dir, 'big-again.bin'));
    write(path.join(dir, 'small.txt'), 'y');
    symlinkSync('small.txt', path.join(dir, 'link'));
    const { bytes, linkGroups } = await measureTree(dir);
    expect(bytes).toBeGreaterThanOrEqual(100_001);
    expect(bytes).toBeLessThan(100_000 + 64 * 1024); // block rounding only: big.bin counted once
    expect([...linkGroups.keys()].sort()).toEqual(['a/b/c/big.bin', 'big-again.bin']);
    expect(new Set(linkGroups.values()).size).toBe(1);
  });

  it('copyDoesNotFit: fits while the reserve stays free, otherwise says how much would be left', () => {
    const MB = 1024 * 1024;
    expect(copyDoesNotFit({ needBytes: 400 * MB, freeBytes: 2000 * MB, reserveBytes: 1024 * MB })).toBeUndefined();
    expect(copyDoesNotFit({ needBytes: 976 * MB, freeBytes: 2000 * MB, reserveBytes: 1024 * MB })).toBeUndefined();
    expect(copyDoesNotFit({ needBytes: 977 * MB, freeBytes: 2000 * MB, reserveBytes: 1024 * MB })).toBe(
      'copying node_modules (977 MB) would leave 1023 MB free of 2000 MB, below the 1024 MB kept free (resources.min_free_disk_mb)',
    );
    expect(copyDoesNotFit({ needBytes: 450 * MB, freeBytes: 100 * MB, reserveBytes: 0 })).toMatch(/would leave 0 MB free of 100 MB/);
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
