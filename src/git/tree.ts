import { gitRaw } from './client.js';
import { nestedRepositories, type NestedRepository } from './nested.js';

/**
 * The staged content of a worktree as a tree object id (`git add -A`, then `git write-tree`): what a conflict
 * resolution produced, kept so a merge redone after a crash can take it instead of resolving again. Throws when
 * something is still unmerged. A worktree holding a git repository of its own (nested.ts: the resolver may have
 * made one) gives `nested` and nothing is staged: `git add` would run git inside it, with its own configuration.
 */
export async function snapshotTree(worktree: string): Promise<{ kind: 'tree'; tree: string } | { kind: 'nested_repository'; nested: NestedRepository[] }> {
  const nested = await nestedRepositories(worktree);
  if (nested.length > 0) return { kind: 'nested_repository', nested };
  await gitRaw(worktree, ['add', '-A']);
  return { kind: 'tree', tree: (await gitRaw(worktree, ['write-tree'])).trim() };
}

/**
 * Puts tree `tree` into the index and the files of `worktree` (`git read-tree --reset -u`), unmerged entries
 * included; an ongoing merge (MERGE_HEAD) stays, so committing then records the merge with that content.
 */
export async function restoreTree(worktree: string, tree: string): Promise<void> {
  await gitRaw(worktree, ['read-tree', '--reset', '-u', tree]);
}
