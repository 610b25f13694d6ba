import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, lstat, opendir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gitQuery } from '../git/client.js';
import { copyDoesNotFit, freeBytes, measureTree } from './disk.js';
import { linkTree, type LinkMethod } from './link-tree.js';
import { compareLockfiles, installedFromLockfile, readLockfiles } from './lockfile.js';

/**
 * - `auto`: a copy-on-write clone of the main checkout's `node_modules` where the filesystem supports it
 *   (btrfs, XFS, APFS, ZFS 2.2+), else a plain copy (ext4 and most Linux disks): either way the worktree's files are
 *   its own. A plain copy costs the tree's full size, so it is made only when that leaves `reserveBytes` free.
 * - `reflink`: copy-on-write clones only; without them, nothing is provisioned (the set-up commands install).
 * - `hardlink`: hard links, on request only: no disk cost, but the files are SHARED with the main checkout (see RISK
 *   below and `findWritesThroughLinks`).
 * - `off`: never.
 */
export type ProvisionMode = 'auto' | 'reflink' | 'hardlink' | 'off';

export interface ProvisionRequest {
  /** The main checkout: its `node_modules` and lockfile are the source. */
  repoRoot: string;
  /** The new worktree, checked out, without `node_modules`. */
  worktree: string;
  mode?: ProvisionMode;
  /** Bytes that must stay free on the worktree's filesystem after a plain copy (default 0). */
  reserveBytes?: number;
  /** Ctrl-C: stop copying, remove the partial copy, answer `skipped` (a copy of a large tree takes seconds). */
  signal?: AbortSignal;
  /** Told what was provisioned, once, on success; and why not, when the user should know (not enough disk). */
  log?: (message: string) => void;
}

export interface ProvisionResult {
  /**
   * `linked`: the worktree has a complete `node_modules` (cloned, copied or hard-linked: see `method`); `skipped`:
   * nothing was written, install as usual.
   */
  kind: 'linked' | 'skipped';
  /** Why it was skipped. */
  reason?: string;
  /** How files were given (when linked): only `hardlink` shares content with the main checkout. */
  method?: LinkMethod;
  /** Bytes a plain copy (`method: 'copy'`) added to the disk, measured before copying. */
  bytes?: number;
  /** Regular files placed. */
  files: number;
  dirs?: number;
  symlinks?: number;
  /** Files given by copy: all of them for `copy`; for `hardlink`, those that could not be linked (a mount point, link limit). */
  copied?: number;
  /** Wall time, ms. */
  ms: number;
  /** Epoch ms when linking started: pass to `findWritesThroughLinks` after the task. */
  since?: number;
}

/**
 * Gives a new worktree the dependencies the main checkout already has installed, without installing them again:
 * a copy of `node_modules` (see `ProvisionMode`), when that is the same tree an install would produce, that is when
 * - the worktree's lockfiles are byte-identical to the main checkout's,
 * - the main checkout's `node_modules` was installed from that lockfile (npm: its hidden lockfile agrees),
 * - git ignores `node_modules` in the worktree (otherwise committing the task's leftovers would commit it),
 * - the worktree has no `node_modules` yet, and
 * - the method can be used: `hardlink` needs one filesystem; `reflink` a filesystem that clones; a plain copy
 *   (`auto` without clones) enough free disk to leave `reserveBytes` free.
 * Otherwise it answers `skipped` with the reason and changes nothing. Never throws.
 *
 * The tree is built beside the worktree and renamed into place, so an interrupted provisioning never leaves a
 * half-filled `node_modules` that would look installed.
 *
 * RISK (`hardlink` only): the worktree's files ARE the main checkout's files. Replacing a file (npm, yarn and pnpm
 * installs, git, most editors' atomic saves) is harmless; writing into an existing file in place (patch-package,
 * an agent editing a file under node_modules, `sed -i` is safe but `echo >>` is not) changes the main checkout's
 * copy too, and every other worktree's. `findWritesThroughLinks` detects that after the fact. Clones and copies
 * (`auto`, `reflink`) have no such risk.
 */
export async function provisionDependencies(req: ProvisionRequest): Promise<ProvisionResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  // Not logged: most repositories are not Node projects, and the caller has the reason.
  const skip = (reason: string): ProvisionResult => ({ kind: 'skipped', reason, files: 0, ms: elapsed() });
  const mode = req.mode ?? 'auto';
  if (mode === 'off') return skip('provisioning is off');

  try {
    const source = path.join(req.repoRoot, 'node_modules');
    const target = path.join(req.worktree, 'node_modules');
    const sourceStat = await lstat(source).catch(() => undefined);
    if (!sourceStat?.isDirectory()) return skip('the main checkout has no node_modules directory');
    if (await exists(target)) return skip('the worktree already has node_modules');
    // A worktrees.dir inside node_modules: the copy would contain itself, folder within folder, until a path is too long.
    if (isInside(await realpath(source), await realpath(req.worktree))) return skip('the worktree is inside the main checkout\'s node_modules (worktrees.dir), which a copy would have to contain');

    const [main, own] = await Promise.all([readLockfiles(req.repoRoot), readLockfiles(req.worktree)]);
    const differs = compareLockfiles(main, own);
    if (differs) return skip(differs);
    const lockfile = [...main.hashes.keys()][0]!;
    const stale = await installedFromLockfile(req.repoRoot, lockfile);
    if (stale) return skip(stale);
    if ((await gitQuery(req.worktree, ['check-ignore', '-q', 'node_modules/'])) === undefined) {
      return skip('git does not ignore node_modules/ in the worktree, so the task would commit it');
    }

    const staging = stagingPathFor(req.worktree);
    await rm(staging, { recursive: true, force: true }); // ours, left by an interrupted provisioning
    const method = await chooseMethod(mode, source, sourceStat.dev, req.worktree);
    if (typeof method !== 'string') {
      // Only "hardlink" and "reflink", which the user chose: say why they give nothing here, as for a full disk.
      req.log?.(`node_modules not provisioned: ${method.reason}; the set-up commands run instead`);
      return skip(method.reason);
    }
    let bytes: number | undefined;
    let linkGroups: ReadonlyMap<string, string> | undefined;
    if (method === 'copy') {
      ({ bytes, linkGroups } = await measureTree(source));
      const full = copyDoesNotFit({ needBytes: bytes, freeBytes: await freeBytes(req.worktree), reserveBytes: req.reserveBytes ?? 0 });
      if (full) {
        req.log?.(`node_modules not provisioned: ${full}; the set-up commands run instead (an install needs as much disk)`);
        return skip(full);
      }
    }

    const since = Date.now();
    if (req.signal?.aborted) return skip('interrupted');
    try {
      const stats = await linkTree(source, staging, {
        method,
        finalPath: target,
        rebase: { from: req.repoRoot, to: req.worktree },
        ...(linkGroups ? { linkGroups } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      await rename(staging, target);
      const result: ProvisionResult = { kind: 'linked', method, files: stats.files, dirs: stats.dirs, symlinks: stats.symlinks, copied: stats.copied, ms: elapsed(), since };
      if (bytes !== undefined) result.bytes = bytes;
      req.log?.(`node_modules ${describe(method, bytes)} from the main checkout: ${stats.files} files, ${stats.symlinks} symlinks in ${result.ms} ms${method === 'hardlink' && stats.copied ? ` (${stats.copied} copied)` : ''}`);
      return result;
    } catch (err) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      if (req.signal?.aborted) return skip('interrupted');
      return skip(`${describe(method)} failed: ${(err as Error).message}`);
    }
  } catch (err) {
    // Anything else (a lockfile that cannot be read, a measure that failed): a partial copy may exist; never keep it.
    await rm(stagingPathFor(req.worktree), { recursive: true, force: true }).catch(() => undefined);
    return skip(`unexpected error: ${(err as Error).message}`);
  }
}

/** Where the copy for `worktree` is built, beside it, before it is renamed into place. */
export function stagingPathFor(worktree: string): string {
  return path.join(path.dirname(worktree), `.${path.basename(worktree)}${STAGING_SUFFIX}`);
}

const STAGING_SUFFIX = '.node_modules.provisioning';

/**
 * Whether a name in the worktrees folder is a copy left by a provisioning that was cut off (kill -9, a power cut):
 * as large as node_modules, and removed only when the same worktree is provisioned again or by `orchestrate clean`.
 */
export function isStagingName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(STAGING_SUFFIX) && name.length > 1 + STAGING_SUFFIX.length;
}

function describe(method: LinkMethod, bytes?: number): string {
  switch (method) {
    case 'reflink':
      return 'cloned (copy-on-write)';
    case 'copy':
      return bytes === undefined ? 'copied' : `copied (${Math.round(bytes / (1024 * 1024))} MB)`;
    case 'hardlink':
      return 'hard-linked (its files are shared with the main checkout)';
  }
}

async function chooseMethod(mode: Exclude<ProvisionMode, 'off'>, source: string, sourceDev: number, worktree: string): Promise<LinkMethod | { reason: string }> {
  if (mode === 'hardlink') {
    const sameDevice = (await stat(worktree)).dev === sourceDev;
    return sameDevice ? 'hardlink' : { reason: 'node_modules is on another filesystem than the worktree (hard links cannot cross filesystems)' };
  }
  if (await canReflink(source, worktree)) return 'reflink';
  if (mode === 'reflink') return { reason: 'the filesystem cannot clone files (no reflink support) and worktrees.provision is "reflink"' };
  return 'copy';
}

/** Clones one real file of `source` into `dir` and removes the clone: the only reliable test. */
async function canReflink(source: string, dir: string): Promise<boolean> {
  const sample = await firstFile(source);
  if (!sample) return false;
  const probe = path.join(dir, `.reflink-probe-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    await copyFile(sample, probe, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

/** A regular file near the top of the tree (node_modules/.package-lock.json is usually the first). */
async function firstFile(dir: string, depth = 0): Promise<string | undefined> {
  const subdirs: string[] = [];
  for await (const entry of await opendir(dir)) {
    if (entry.isFile()) return path.join(dir, entry.name);
    if (entry.isDirectory() && subdirs.length < 4) subdirs.push(path.join(dir, entry.name));
  }
  if (depth >= 4) return undefined;
  for (const sub of subdirs) {
    const found = await firstFile(sub, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function isInside(root: string, p: string): boolean {
  const inside = path.relative(root, p);
  return inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside));
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Hard-linked files under the worktree's `node_modules` whose content changed after `since` (the provisioning's
 * `since`): written in place, so the main checkout's copy changed too. Replaced files (a reinstall) are new inodes
 * with one link and are not reported. Costs one lstat per file (about 30 ms per 3,000 files). At most `limit`
 * paths, relative to the worktree.
 */
export async function findWritesThroughLinks(opts: { worktree: string; since: number; limit?: number }): Promise<string[]> {
  const limit = opts.limit ?? 20;
  const found: string[] = [];
  const root = path.join(opts.worktree, 'node_modules');
  const walk = async (dir: string): Promise<void> => {
    let handle;
    try {
      handle = await opendir(dir);
    } catch {
      return;
    }
    const files: Promise<void>[] = [];
    const dirs: string[] = [];
    for await (const entry of handle) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) dirs.push(full);
      else if (entry.isFile())
        files.push(
          lstat(full).then(
            (s) => {
              if (s.nlink > 1 && s.mtimeMs > opts.since && found.length < limit) found.push(path.relative(opts.worktree, full));
            },
            () => undefined,
          ),
        );
    }
    await Promise.all([...files, ...dirs.map(walk)]);
  };
  await walk(root);
  return found.sort();
}

/**
 * Set-up commands that do nothing but install the locked dependencies (`npm ci`, `npm install`, `pnpm install`,
 * `yarn`, `bun install`, with flags only): redundant once `node_modules` is provisioned, and `npm ci` would delete
 * the linked tree and install it again. Anything else (`npm ci && npm run build`, `npm install left-pad`) still runs.
 */
export function isDependencyInstall(command: string): boolean {
  return /^\s*(?:npm\s+(?:ci|install|i|clean-install)|pnpm\s+(?:install|i)|yarn(?:\s+install)?|bun\s+(?:install|i))(?:\s+--?[A-Za-z][\w-]*(?:=\S+)?)*\s*$/.test(command);
}
