import { existsSync } from 'node:fs';
import path from 'node:path';
import { GitCommandError, gitRaw } from '../../git/client.js';
import { branchSha, isAncestor, isOnFirstParentChain } from '../../git/repo.js';
import { listWorktrees, parseLockReason, samePath, type WorktreeEntry } from '../../git/worktree.js';
import { MILESTONE_ID_PATTERN } from '../../milestones/types.js';
import { integrationBranchFor } from '../../run/context.js';
import { shownPath, type Workspace } from './workspace.js';

/**
 * What a worktree under the worktree dir is: a task's (`<prefix><id>` checked out), the merge worktree
 * (`_merge`, detached), one on the integration branch, or something else the orchestrator did not make.
 */
export type WorktreeKind = 'task' | 'merge' | 'integration' | 'other';

export interface WorktreeInfo {
  /** Absolute, as git reports it. */
  absPath: string;
  /** Relative to the repository root (forward slashes) when inside it, else absolute. */
  path: string;
  branch: string | null;
  head: string | null;
  kind: WorktreeKind;
  /** The milestone id, for a task worktree. */
  task: string | null;
  /**
   * Nothing on the branch that the target lacks (removing it loses no commit); null when there is no branch or no
   * target to compare with. Also true for a branch with no commits of its own: see `ownCommits`.
   */
  merged: boolean | null;
  /**
   * Whether the branch has commits of its own: false while a task's branch still points at its base (a task that
   * is running or never committed), which git alone would call merged; null when `merged` is.
   */
  ownCommits: boolean | null;
  /**
   * Uncommitted changes (staged, unstaged or untracked). Also true when git cannot read the worktree (see
   * `unreadable`): whether it holds uncommitted work cannot be told.
   */
  dirty: boolean;
  /**
   * Why git cannot read the worktree (its `git status` failed: a `.git` file overwritten, or pointing at a moved
   * repository); null when it can.
   */
  unreadable: string | null;
  /** Locked with `git worktree lock`: git itself refuses to remove it. */
  locked: boolean;
  /** The lock's reason, as given to `git worktree lock`. */
  lockReason: string | null;
  /** The run (and task) that locked it, when the lock is the orchestrator's: `milestone-orchestrator run <id>, task <id>`. */
  lockedBy: { run: string; task: string | null } | null;
  /** Registered but its folder is gone (`git worktree prune` forgets it). */
  missing: boolean;
}

/** The worktrees registered under the configured worktree dir, never the main one, with what clean needs to know. */
export async function orchestratorWorktrees(ws: Workspace, target: string | undefined): Promise<WorktreeInfo[]> {
  const entries = await listWorktrees(ws.repo.root);
  const targetExists = target !== undefined && (await branchSha(ws.repo.root, target)) !== undefined;
  const inside = entries.filter((e) => !samePath(e.path, ws.repo.root) && isInside(ws.worktreeDir, e.path));
  const infos = await Promise.all(inside.map((e) => describe(ws, e, targetExists ? target : undefined)));
  return infos.sort((a, b) => a.path.localeCompare(b.path));
}

async function describe(ws: Workspace, e: WorktreeEntry, target: string | undefined): Promise<WorktreeInfo> {
  const missing = !existsSync(e.path);
  const { kind, task } = classify(ws, e);
  const state = missing ? { dirty: false, unreadable: null } : await readWorktreeState(e.path);
  return {
    absPath: e.path,
    path: shownPath(ws.repo.root, e.path),
    branch: e.branch ?? null,
    head: e.head ?? null,
    kind,
    task,
    ...(e.branch && target ? await compareWithTarget(ws.repo.root, e.branch, target, kind === 'task') : { merged: null, ownCommits: null }),
    ...state,
    locked: e.locked,
    lockReason: e.lockReason ?? null,
    lockedBy: lockedBy(e),
    missing,
  };
}

function lockedBy(e: WorktreeEntry): WorktreeInfo['lockedBy'] {
  const parsed = e.locked ? parseLockReason(e.lockReason) : undefined;
  return parsed ? { run: parsed.runId, task: parsed.task ?? null } : null;
}

function classify(ws: Workspace, e: WorktreeEntry): { kind: WorktreeKind; task: string | null } {
  if (samePath(e.path, ws.mergeWorktree) && e.branch === undefined) return { kind: 'merge', task: null };
  if (e.branch === undefined) return { kind: 'other', task: null };
  if (e.branch === integrationBranchFor(ws.config)) return { kind: 'integration', task: null };
  const id = taskIdOf(ws, e.branch);
  return id ? { kind: 'task', task: id } : { kind: 'other', task: null };
}

/** The milestone id when `branch` is exactly `<branch_prefix><id>`: only such branches are the orchestrator's. */
export function taskIdOf(ws: Workspace, branch: string): string | undefined {
  const prefix = ws.config.worktrees.branch_prefix;
  if (!branch.startsWith(prefix)) return undefined;
  const id = branch.slice(prefix.length);
  return MILESTONE_ID_PATTERN.test(id) ? id : undefined;
}

/**
 * Like isDirty, but with --no-optional-locks: a plain `git status` may rewrite the index to refresh it, and
 * status promises to write nothing (it may also run beside a live run).
 */
async function hasUncommittedChanges(worktree: string): Promise<boolean> {
  const out = await gitRaw(worktree, ['--no-optional-locks', 'status', '--porcelain', '--untracked-files=normal']);
  return out.length > 0;
}

/**
 * Whether the worktree has uncommitted changes, or why git cannot tell: one broken worktree (its `.git` file
 * overwritten by a check run as the user, or pointing at a repository that moved) must not make status and clean
 * fail for every other one. Such a worktree counts as dirty, and clean keeps it (clean-plan.ts).
 */
async function readWorktreeState(worktree: string): Promise<{ dirty: boolean; unreadable: string | null }> {
  try {
    return { dirty: await hasUncommittedChanges(worktree), unreadable: null };
  } catch (error) {
    const message = error instanceof GitCommandError ? error.stderr.trim().split('\n').at(-1) || error.message : String(error);
    return { dirty: true, unreadable: message };
  }
}

/**
 * Where `branch` stands against the target branch: merged (the target has all of it) and whether it has commits of
 * its own at all. A task branch whose tip is on the target's first-parent chain was never merged: it was made there
 * and nothing was committed on it since (the orchestrator merges task branches with `--no-ff`). `taskBranch`: false
 * for the integration branch, whose commits are the stage merges and so lie on that chain once taken.
 */
export async function compareWithTarget(root: string, branch: string, target: string, taskBranch: boolean): Promise<{ merged: boolean; ownCommits: boolean }> {
  if (!(await isAncestor(root, `refs/heads/${branch}`, `refs/heads/${target}`))) return { merged: false, ownCommits: true };
  // The integration branch is the target's own line once taken (fast-forwarded): merged, not empty.
  if (!taskBranch) return { merged: true, ownCommits: true };
  return { merged: true, ownCommits: !(await isOnFirstParentChain(root, `refs/heads/${branch}`, target)) };
}

/**
 * How a branch stands against the target, for a person: "merged into main", "not merged into main", "no commits
 * yet: nothing to merge into main" or why it cannot be told. One wording for status and clean.
 */
export function describeBranchState(s: { merged: boolean | null; ownCommits: boolean | null }, target: string | null | undefined): string {
  if (s.merged === null) return target ? `cannot tell whether it is merged (no branch ${target})` : 'cannot tell whether it is merged (no target branch)';
  if (!s.merged) return `not merged into ${target}`;
  return s.ownCommits === false ? `no commits yet: nothing to merge into ${target}` : `merged into ${target}`;
}

function isInside(dir: string, p: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(p));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

