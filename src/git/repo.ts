import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { changedPaths, gitQuery, gitRaw } from './client.js';

export interface RepoInfo {
  /** Top level of the main worktree, real path. */
  root: string;
  /** The shared .git directory (where info/exclude lives). */
  commonDir: string;
  /** Branch checked out in the main worktree; undefined when HEAD is detached. */
  currentBranch: string | undefined;
  headSha: string | undefined;
}

export type RepoProblem =
  | { kind: 'not_a_repo'; dir: string }
  | { kind: 'no_commits'; dir: string }
  | { kind: 'bare'; dir: string };

export async function inspectRepo(dir: string): Promise<{ repo?: RepoInfo; problem?: RepoProblem }> {
  // One process for both answers: rev-parse prints one line per option, and fails as a whole outside a repository.
  const inside = await gitQuery(dir, ['rev-parse', '--is-inside-work-tree', '--git-common-dir']);
  if (inside === undefined) {
    const bare = await gitQuery(dir, ['rev-parse', '--is-bare-repository']);
    return { problem: { kind: bare === 'true' ? 'bare' : 'not_a_repo', dir } };
  }
  // A linked worktree's toplevel is the worktree itself; the run always belongs to the main worktree.
  const commonDir = path.resolve(dir, inside.split('\n')[1] ?? '.git');
  const mainRoot = await realpath(path.dirname(commonDir));
  const headSha = await gitQuery(mainRoot, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  if (!headSha) return { problem: { kind: 'no_commits', dir: mainRoot } };
  const currentBranch = await gitQuery(mainRoot, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  return { repo: { root: mainRoot, commonDir, currentBranch: currentBranch || undefined, headSha } };
}

export async function branchSha(cwd: string, branch: string): Promise<string | undefined> {
  return (await gitQuery(cwd, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`])) || undefined;
}

/** Which of `branches` exist, with one git process for any number of them (`git for-each-ref refs/heads/`). */
export async function existingBranches(cwd: string, branches: readonly string[]): Promise<string[]> {
  if (branches.length === 0) return [];
  const all = new Set(((await gitQuery(cwd, ['for-each-ref', '--format=%(refname)', 'refs/heads/'])) ?? '').split('\n'));
  return branches.filter((b) => all.has(`refs/heads/${b}`));
}

export async function resolveCommit(cwd: string, rev: string): Promise<string | undefined> {
  return (await gitQuery(cwd, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])) || undefined;
}

/**
 * How git knows a path of the working tree (`file`, relative to `cwd`'s top): `committed` (in HEAD), `staged` (in the
 * index only: added, never committed) or `untracked`. Decides which command removes it: `git rm` fails with
 * "pathspec did not match" on an untracked path.
 */
export async function pathInGit(cwd: string, file: string): Promise<'committed' | 'staged' | 'untracked'> {
  if ((await gitQuery(cwd, ['--literal-pathspecs', 'ls-files', '--error-unmatch', '--', file])) === undefined) return 'untracked';
  return (await gitQuery(cwd, ['cat-file', '-e', `HEAD:${file}`])) === undefined ? 'staged' : 'committed';
}

/** Uncommitted changes (staged, unstaged or untracked, not ignored) in a working tree. */
export async function isDirty(cwd: string): Promise<boolean> {
  return (await changedPaths(cwd)).length > 0;
}

export async function isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
  return (await gitQuery(cwd, ['merge-base', '--is-ancestor', ancestor, descendant])) !== undefined;
}

/**
 * Whether `commit` lies on `branch`'s first-parent chain: the branch's own line of history, not something merged
 * into it. A task branch with no commits of its own points at such a commit (its base), while a merged task branch
 * is the second parent of a `--no-ff` merge. One git process; the walk stops at the commit's parents, so it reads
 * only the first-parent commits made since `commit`.
 */
export async function isOnFirstParentChain(cwd: string, commit: string, branch: string): Promise<boolean> {
  const sha = await resolveCommit(cwd, commit);
  if (!sha) return false;
  const chain = (await gitQuery(cwd, ['rev-list', '--first-parent', `refs/heads/${branch}`, '--not', `${sha}^@`])) ?? '';
  return chain.split('\n').includes(sha);
}

/**
 * The head of the worktree `cwd` and the number of commits from `base` to it (`git rev-list base..HEAD`), with one
 * git process when there are any: with --topo-order no commit is listed before its descendants, so the first one
 * listed is HEAD itself. With none (HEAD is `base`, or behind it) HEAD is asked for separately; `head` is undefined
 * only when HEAD does not resolve.
 */
export async function branchProgress(cwd: string, base: string): Promise<{ head: string | undefined; commits: number }> {
  const listed = (await gitRaw(cwd, ['rev-list', '--topo-order', `${base}..HEAD`])).split('\n').filter(Boolean);
  if (listed.length > 0) return { head: listed[0], commits: listed.length };
  return { head: (await gitQuery(cwd, ['rev-parse', '--verify', '--quiet', 'HEAD'])) || undefined, commits: 0 };
}

export async function commitsBetween(cwd: string, from: string, to: string): Promise<number> {
  return Number(await gitRaw(cwd, ['rev-list', '--count', `${from}..${to}`]));
}

/** A valid branch name by git's own rules. */
export async function isValidBranchName(cwd: string, name: string): Promise<boolean> {
  return (await gitQuery(cwd, ['check-ref-format', '--branch', name])) !== undefined;
}
