import { constants } from 'node:fs';
import { copyFile, link, mkdir, opendir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';
import { createLimiter } from '../util/limiter.js';

/**
 * How regular files reach the new tree:
 * - `reflink`: a copy-on-write clone (`FICLONE`: btrfs, XFS, APFS, ZFS 2.2+). Costs no data blocks and is a real,
 *   independent copy: writing to either side never affects the other.
 * - `hardlink`: another name for the same inode. Costs no data blocks, but the content is SHARED: a tool that
 *   writes into an existing file in place (instead of replacing it) changes both trees. See `findWritesThroughLinks`.
 * - `copy`: an independent copy of each file: `copyFile` with `COPYFILE_FICLONE`, which clones where the filesystem
 *   can and otherwise copies the bytes (full disk cost). Also used per file where a hard link is impossible (EXDEV,
 *   EMLINK).
 */
export type LinkMethod = 'reflink' | 'hardlink' | 'copy';

export interface LinkStats {
  /** Regular files made available in the new tree, however (linked, cloned or copied). */
  files: number;
  dirs: number;
  symlinks: number;
  /** Files given by `copy` (method `copy`, or a hard link that was impossible: cross-device, too many links). */
  copied: number;
  /** Sockets, FIFOs, devices: left out. */
  skipped: number;
  /** Files given as a hard link to another file of the new tree, as they were in the source (see `linkGroups`). */
  linkedWithin?: number;
}

export interface LinkTreeOptions {
  method: LinkMethod;
  /** File-system operations in flight at once. Default 64 (libuv runs 4 at a time; the rest queue cheaply). */
  concurrency?: number;
  /**
   * For `copy` and `reflink`: source files that are hard links of each other (path relative to `src` -> a key shared
   * by the group, from `measureTree`). Each group is copied once and the others become hard links to that copy inside
   * the new tree, as `cp -a` does: npm installs some packages' large binaries under two names (Claude Code's 370 MB
   * executable), which a plain per-file copy would store twice.
   */
  linkGroups?: ReadonlyMap<string, string>;
  /** Stops placing files once aborted (the walk then rejects with the signal's reason; nothing is left writing). */
  signal?: AbortSignal;
  /**
   * Where the new tree ends up when `dst` is only where it is built (a staging folder renamed into place): absolute
   * symlink targets inside `src` point there, not into the staging folder that is gone after the rename. Default `dst`.
   */
  finalPath?: string;
  /**
   * Absolute symlink targets inside `from` (and outside `src`) are rewritten to the same place inside `to`: a link
   * from the main checkout's `node_modules` to one of its own folders (`/repo/packages/lib`) then points at the
   * worktree's copy of that folder, as a relative link would, instead of letting the task write into the main checkout.
   */
  rebase?: { from: string; to: string };
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
  const finalRoot = path.resolve(opts.finalPath ?? dst);
  /** Link group -> the new tree's copy of its first file, once written. */
  const groupCopies = new Map<string, Promise<string>>();

  const placeFile = async (from: string, to: string): Promise<void> => {
    const group = opts.method === 'hardlink' ? undefined : opts.linkGroups?.get(path.relative(srcRoot, from));
    if (group === undefined) return giveFile(from, to);
    const first = groupCopies.get(group);
    if (first) {
      stats.files++;
      stats.linkedWithin = (stats.linkedWithin ?? 0) + 1;
      const copy = await first;
      return limit(() => link(copy, to)).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EMLINK') throw err;
        stats.linkedWithin!--;
        stats.files--;
        await giveFile(from, to);
      });
    }
    const given = giveFile(from, to).then(() => to);
    groupCopies.set(group, given);
    given.catch(() => undefined); // the failure is reported through this file's own promise
    await given;
  };

  const giveFile = async (from: string, to: string): Promise<void> => {
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
    // Mode bits come along (libuv copies them); a clone where the filesystem can, the bytes where it cannot.
    await limit(() => copyFile(from, to, constants.COPYFILE_FICLONE));
  };

  const placeSymlink = async (from: string, to: string): Promise<void> => {
    stats.symlinks++;
    let target = await limit(() => readlink(from));
    if (path.isAbsolute(target)) {
      const inTree = within(srcRoot, target);
      const inRebased = opts.rebase ? within(path.resolve(opts.rebase.from), target) : undefined;
      if (inTree !== undefined) target = path.join(finalRoot, inTree);
      else if (inRebased !== undefined) target = path.join(path.resolve(opts.rebase!.to), inRebased);
    }
    await limit(() => symlink(target, to));
  };

  const walk = async (from: string, to: string): Promise<void> => {
    await limit(() => mkdir(to));
    stats.dirs++;
    const pending: Promise<void>[] = [];
    // A listing can fail half-way (Linux answers ENOENT for a folder removed while it is read) after copies of its
    // first entries have started: those are still awaited, or their failures would be unhandled rejections, which
    // end the whole process (every task of the run, not just this copy).
    const listed = (async () => {
      const dir = await limit(() => opendir(from, { bufferSize: 256 }));
      for await (const entry of dir) {
        if (opts.signal?.aborted) break;
        const a = path.join(from, entry.name);
        const b = path.join(to, entry.name);
        if (entry.isDirectory()) pending.push(walk(a, b));
        else if (entry.isFile()) pending.push(placeFile(a, b));
        else if (entry.isSymbolicLink()) pending.push(placeSymlink(a, b));
        else stats.skipped++;
      }
    })().then(
      () => undefined,
      (err: unknown) => ({ err }),
    );
    const listingFailed = await listed;
    await settleAll(pending);
    if (listingFailed) throw listingFailed.err;
  };

  await walk(srcRoot, dstRoot);
  opts.signal?.throwIfAborted();
  return stats;
}

/** `target` relative to `root` when it is `root` or inside it, else undefined. */
function within(root: string, target: string): string | undefined {
  const inside = path.relative(root, path.resolve(target));
  return inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside)) ? inside : undefined;
}

/** Waits for every promise (so nothing is still writing when we return), then throws the first error. */
async function settleAll(pending: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(pending);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
