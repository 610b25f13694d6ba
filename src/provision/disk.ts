import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export interface TreeMeasure {
  /**
   * Bytes the regular files occupy on disk (`st_blocks` × 512, so a sparse file counts what it uses), each inode
   * once (as `du`): what a copy that keeps the tree's hard links (`linkTree` with `linkGroups`) adds.
   */
  bytes: number;
  /** Files that are hard links of each other inside the tree: path relative to the tree -> a key per inode. */
  linkGroups: Map<string, string>;
}

/** Longest stretch, ms, that `measureTree` keeps the event loop before letting other work run. */
const SLICE_MS = 10;

/**
 * Measures the tree under `dir` for a plain copy: its size on disk and its internal hard links. Directories and
 * symlinks are left out of the size (a few KB each at most). Unreadable entries count 0. Throws only when `dir`
 * itself cannot be read.
 *
 * Synchronous calls in slices of about 10 ms, yielding to the event loop in between: one lstat per file, 3 to 5
 * times faster than the same walk with a promise per call (measured on 15,600 files under load: 200-370 ms against
 * 440-1,450 ms), and other agents' output is still read between slices.
 */
export async function measureTree(dir: string): Promise<TreeMeasure> {
  const root = path.resolve(dir);
  let bytes = 0;
  /** inode key -> the first path seen with it. */
  const firstPath = new Map<string, string>();
  const linkGroups = new Map<string, string>();
  const pending = [root];
  let sliceStart = performance.now();
  while (pending.length > 0) {
    const at = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(at, { withFileTypes: true });
    } catch (err) {
      if (at === root) throw err;
      continue;
    }
    for (const entry of entries) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) pending.push(full);
      if (!entry.isFile()) continue;
      let s;
      try {
        s = lstatSync(full, { bigint: true });
      } catch {
        continue; // gone or unreadable: counts 0
      }
      if (s.nlink > 1n) {
        const key = `${s.dev}:${s.ino}`;
        const rel = path.relative(root, full);
        const first = firstPath.get(key);
        if (first !== undefined) {
          linkGroups.set(first, key);
          linkGroups.set(rel, key);
          continue; // its blocks are counted already
        }
        firstPath.set(key, rel);
      }
      bytes += Number(s.blocks) * 512;
    }
    if (performance.now() - sliceStart >= SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return { bytes, linkGroups };
}

/** Bytes an unprivileged process may still write on the filesystem holding `dir` (`statfs`: bavail × bsize). */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

export interface CopySpace {
  /** Bytes the copy adds (`treeBytes` of the source). */
  needBytes: number;
  /** Bytes free where the copy goes (`freeBytes`). */
  freeBytes: number;
  /** Bytes that must stay free afterwards (the resource gate's `resources.min_free_disk_mb`). */
  reserveBytes: number;
}

/**
 * Whether a full copy fits and leaves the reserve free, or why not (a sentence with the sizes in MB). A plain copy
 * of `node_modules` costs as much disk as an install; refusing it up front leaves the disk as it was for the other
 * tasks' agents instead of filling it to the last block and failing halfway.
 */
export function copyDoesNotFit(space: CopySpace): string | undefined {
  const left = space.freeBytes - space.needBytes;
  if (left >= space.reserveBytes) return undefined;
  return (
    `copying node_modules (${mb(space.needBytes)} MB) would leave ${mb(Math.max(0, left))} MB free of ${mb(space.freeBytes)} MB, ` +
    `below the ${mb(space.reserveBytes)} MB kept free (resources.min_free_disk_mb)`
  );
}

const mb = (bytes: number): number => Math.round(bytes / (1024 * 1024));
