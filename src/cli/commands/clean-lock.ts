import { existsSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock, type LockInfo } from '../../state/lock.js';

export type CleanLock = { held: true; release: () => Promise<void>; tookOverFrom?: LockInfo } | { held: false; reason: string };

/**
 * Clean takes the run lock itself rather than only checking it: a run starting halfway through a clean would
 * find its worktrees vanishing. A lock whose process is gone is taken over, as a run does. Folders created
 * only to hold the lock are removed again, so a clean in a repository that never ran leaves nothing behind.
 */
export async function takeLock(lockFile: string, command: string): Promise<CleanLock> {
  const created = missingAncestors(path.dirname(lockFile));
  const lock = await acquireLock(lockFile, command);
  if (!lock.acquired) {
    await removeEmpty(created);
    return { held: false, reason: lock.reason };
  }
  return {
    held: true,
    release: async () => {
      await lock.release();
      await removeEmpty(created);
    },
    ...(lock.tookOverFrom ? { tookOverFrom: lock.tookOverFrom } : {}),
  };
}

/** The folders of `dir`'s path that do not exist yet, deepest first. */
function missingAncestors(dir: string): string[] {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) missing.push(d);
  return missing;
}

/** rmdir only removes empty folders: anything put there meanwhile stays. */
async function removeEmpty(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) {
    const removed = await rmdir(d).then(
      () => true,
      () => false,
    );
    if (!removed) return;
  }
}
