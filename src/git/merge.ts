import { existsSync } from 'node:fs';
import { changedPaths, gitQuery, gitRaw } from './client.js';
import { identityArgs } from './commit.js';
import { isAncestor, branchSha } from './repo.js';
import { listWorktrees, samePath, serializeWorktreeChange } from './worktree.js';

export interface BranchToMerge {
  branch: string;
  message: string;
}

export type MergeOutcome =
  | { ok: true; sha: string; merged: string[]; resolved: string[] }
  | { ok: false; sha: string; merged: string[]; resolved: string[]; conflict: { branch: string; files: string[]; detail: string } };

/**
 * Called with the merge stopped on a conflict (markers in the files, MERGE_HEAD set). Resolves it in the worktree
 * and answers true when the files are ready to commit; false leaves the merge to be aborted.
 */
export type ConflictResolver = (conflict: { branch: string; files: string[]; worktree: string; mergedSoFar: string[] }) => Promise<boolean>;

/**
 * Merges branches one by one, in the order given, in the orchestrator's own merge worktree (detached), never in
 * the user's. A conflict goes to `resolve` when given; unresolved, the merge is aborted and the result so far
 * (`sha`) is returned with the conflict.
 */
export async function mergeInWorktree(opts: {
  repoRoot: string;
  mergeWorktreePath: string;
  baseSha: string;
  branches: readonly BranchToMerge[];
  resolve?: ConflictResolver;
}): Promise<MergeOutcome> {
  const { repoRoot, mergeWorktreePath: wt, baseSha, branches } = opts;
  await checkoutDetached(repoRoot, wt, baseSha);
  const who = await identityArgs(wt);
  const merged: string[] = [];
  const resolved: string[] = [];
  for (const { branch, message } of branches) {
    const head = await gitRaw(wt, ['rev-parse', 'HEAD']);
    if (await isAncestor(wt, branch, head)) {
      merged.push(branch); // already in (a same-stage dependent carried it, or a resumed run merged it)
      continue;
    }
    const result = await gitQuery(wt, [...who, 'merge', '--no-ff', '--no-edit', '--no-verify', '-m', message, branch]);
    if (result === undefined) {
      const files = await conflictedFiles(wt);
      const fixed = opts.resolve ? await opts.resolve({ branch, files, worktree: wt, mergedSoFar: [...merged] }).catch(() => false) : false;
      if (fixed && (await commitResolvedMerge(wt, who, branch, message))) {
        resolved.push(branch);
        merged.push(branch);
        continue;
      }
      await gitQuery(wt, ['merge', '--abort']);
      await gitQuery(wt, ['reset', '-q', '--hard', head]);
      return { ok: false, sha: head, merged, resolved, conflict: { branch, files, detail: `merging ${branch} conflicts in ${files.join(', ') || 'unknown files'}` } };
    }
    merged.push(branch);
  }
  return { ok: true, sha: await gitRaw(wt, ['rev-parse', 'HEAD']), merged, resolved };
}

export async function conflictedFiles(wt: string): Promise<string[]> {
  return (await gitQuery(wt, ['diff', '--name-only', '--diff-filter=U']))?.split('\n').filter(Boolean) ?? [];
}

/**
 * Commits a merge a resolver finished, but only when nothing is left unmerged and no conflict marker remains in
 * the files git tracks; the resolver may also have committed it itself.
 */
async function commitResolvedMerge(wt: string, who: string[], branch: string, message: string): Promise<boolean> {
  await gitRaw(wt, ['add', '-A']);
  if ((await conflictedFiles(wt)).length > 0) return false;
  const markers = await gitQuery(wt, ['grep', '-n', '-I', '-E', '^(<<<<<<<|>>>>>>>)( |$)', '--cached']);
  if (markers !== undefined && markers !== '') return false;
  const inMerge = (await gitQuery(wt, ['rev-parse', '-q', '--verify', 'MERGE_HEAD'])) !== undefined;
  if (inMerge) await gitRaw(wt, [...who, 'commit', '--no-verify', '-q', '--no-edit', '-m', message]);
  return isAncestor(wt, branch, 'HEAD'); // a resolver that aborted the merge has not merged anything
}

function checkoutDetached(repoRoot: string, wt: string, sha: string): Promise<void> {
  return serializeWorktreeChange(repoRoot, () => checkoutDetachedUnlocked(repoRoot, wt, sha));
}

async function checkoutDetachedUnlocked(repoRoot: string, wt: string, sha: string): Promise<void> {
  const registered = (await listWorktrees(repoRoot)).some((w) => samePath(w.path, wt));
  if (registered && existsSync(wt)) {
    await gitQuery(wt, ['merge', '--abort']);
    await gitRaw(wt, ['checkout', '-q', '--detach', '--force', sha]);
    await gitRaw(wt, ['clean', '-fdq']);
    return;
  }
  if (registered) await gitRaw(repoRoot, ['worktree', 'prune']);
  await gitRaw(repoRoot, ['worktree', 'add', '-q', '--detach', wt, sha]);
}

export type AdvanceOutcome =
  | { moved: true; how: 'update-ref' | 'fast-forward' }
  | { moved: false; integrationBranch: string; reason: string };

/**
 * Moves the target branch to the merged result only when that cannot hurt the user's work: the branch is not
 * checked out anywhere (a ref update), or it is checked out in a clean working tree (a fast-forward that git
 * itself refuses if it would overwrite anything). Otherwise the result goes to the integration branch.
 */
export async function advanceTarget(opts: {
  repoRoot: string;
  target: string;
  expectedOld: string;
  newSha: string;
  integrationBranch: string;
  /** Files the orchestrator itself rewrites in the main worktree (TASKS.md): not the user's changes. */
  ownFiles: readonly string[];
}): Promise<AdvanceOutcome> {
  const { repoRoot, target, expectedOld, newSha, integrationBranch } = opts;
  const current = await branchSha(repoRoot, target);
  const fallback = async (reason: string): Promise<AdvanceOutcome> => {
    await gitRaw(repoRoot, ['branch', '-f', integrationBranch, newSha]);
    return { moved: false, integrationBranch, reason };
  };
  if (current === newSha) return { moved: true, how: 'update-ref' };
  if (current === undefined) return fallback(`branch ${target} no longer exists`);
  if (current !== expectedOld && !(await isAncestor(repoRoot, current, newSha)))
    return fallback(`${target} moved during the run (now ${current.slice(0, 7)})`);
  const checkedOut = (await listWorktrees(repoRoot)).find((w) => w.branch === target);
  if (!checkedOut) {
    await gitRaw(repoRoot, ['update-ref', `refs/heads/${target}`, newSha, current]);
    return { moved: true, how: 'update-ref' };
  }
  const dirty = await userChanges(checkedOut.path, opts.ownFiles);
  if (dirty.length > 0) return fallback(`${target} is checked out with uncommitted changes (${dirty.slice(0, 3).join(', ')}${dirty.length > 3 ? ', …' : ''})`);
  const ff = await gitQuery(checkedOut.path, ['merge', '--ff-only', '-q', newSha]);
  if (ff === undefined) return fallback(`${target} could not be fast-forwarded`);
  return { moved: true, how: 'fast-forward' };
}

async function userChanges(worktree: string, ownFiles: readonly string[]): Promise<string[]> {
  return (await changedPaths(worktree)).filter((file) => !ownFiles.includes(file));
}
