import { constants } from 'node:fs';
import { copyFile, link, mkdir, opendir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * How regular files reach the new tree:
 * - `reflink`: a copy-on-write clone (`FICLONE`: btrfs, XFS, APFS, ZFS 2.2+). Costs no data blocks and is a real,
 *   independent copy: writing to either side never affects the other.
 * - `hardlink`: another name for the same inode. Costs no data blocks, but the content is SHARED: a tool that
 *   writes into an existing file in place (instead of replacing it) changes both trees. See `findWritesThroughLinks`.
 * - `copy`: a plain copy (full disk cost); used per file where linking is impossible (EXDEV, EMLINK).
 */
export type LinkMethod = 'reflink' | 'hardlink' | 'copy';

export interface LinkStats {
  /** Regular files made available in the new tree, however (linked, cloned or copied). */
  files: number;
  dirs: number;
  symlinks: number;
  /** Files that had to be copied in full (cross-device, too many links, or method `copy`). */
  copied: number;
  /** Sockets, FIFOs, devices: left out. */
  skipped: number;
}

export interface LinkTreeOptions {
  method: LinkMethod;
  /** File-system operations in flight at once. Default 64 (libuv runs 4 at a time; the rest queue cheaply). */
  concurrency?: number;
}

/**
 * Recreates the directory tree `src` at `dst` (which must not exist), giving each regular file by `method`.
 * Directories are created fresh (they cannot be hard-linked), so new files written in `dst` never appear in `src`.
 * Symbolic links stay symbolic links with the same target, except absolute targets inside `src`, which are
 * rewritten to the same place inside `dst` (relative ones, like npm's `.bin/x -> ../pkg/cli.js`, already are).
 */
export async function linkTree(src: string, dst: string, opts: LinkTreeOptions): Promise<LinkStats> {
  const stats: LinkStats = { files: 0, dirs: 0, symlinks: 0, copied: 0, skipped: 0 };
  const limit = createLimiter(opts.concurrency ?? 64);
  const srcRoot = path.resolve(src);
  const dstRoot = path.resolve(dst);

  const placeFile = async (from: string, to: string): Promise<void> => {
    stats.files++;
    if (opts.method === 'reflink') {
      await limit(() => copyFile(from, to, constants.COPYFILE_FICLONE_FORCE));
      return;
    }
    if (opts.method === 'hardlink') {
      try {
        await limit(() => link(from, to));
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // EXDEV: a mount point inside the tree; EMLINK: the inode has the most links the filesystem allows.
        if (code !== 'EXDEV' && code !== 'EMLINK') throw err;
      }
    }
    stats.copied++;
    await limit(() => copyFile(from, to));
  };

  const placeSymlink = async (from: string, to: string): Promise<void> => {
    stats.symlinks++;
    let target = await limit(() => readlink(from));
    if (path.isAbsolute(target)) {
      const inside = path.relative(srcRoot, target);
      if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside))) target = path.join(dstRoot, inside);
    }
    await limit(() => symlink(target, to));
  };

  const walk = async (from: string, to: string): Promise<void> => {
    await limit(() => mkdir(to));
    stats.dirs++;
    const pending: Promise<void>[] = [];
    const dir = await limit(() => opendir(from, { bufferSize: 256 }));
    for await (const entry of dir) {
      const a = path.join(from, entry.name);
      const b = path.join(to, entry.name);
      if (entry.isDirectory()) pending.push(walk(a, b));
      else if (entry.isFile()) pending.push(placeFile(a, b));
      else if (entry.isSymbolicLink()) pending.push(placeSymlink(a, b));
      else stats.skipped++;
    }
    await settleAll(pending);
  };

  await walk(srcRoot, dstRoot);
  return stats;
}

/** Waits for every promise (so nothing is still writing when we return), then throws the first error. */
async function settleAll(pending: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(pending);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function createLimiter(max: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const release = (): void => {
    active--;
    queue.shift()?.();
  };
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      release();
    }
  };
}
