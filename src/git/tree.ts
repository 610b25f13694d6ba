import { gitRaw } from './client.js';

/**
 * The staged content of a worktree as a tree object id (`git add -A`, then `git write-tree`): what a conflict
 * resolution produced, kept so a merge redone after a crash can take it instead of resolving again. Throws when
 * something is still unmerged.
 */
export async function snapshotTree(worktree: string): Promise<string> {
  await gitRaw(worktree, ['add', '-A']);
  return (await gitRaw(worktree, ['write-tree'])).trim();
}

/**
 * Puts tree `tree` into the index and the files of `worktree` (`git read-tree --reset -u`), unmerged entries
 * included; an ongoing merge (MERGE_HEAD) stays, so committing then records the merge with that content.
 */
export async function restoreTree(worktree: string, tree: string): Promise<void> {
  await gitRaw(worktree, ['read-tree', '--reset', '-u', tree]);
}
