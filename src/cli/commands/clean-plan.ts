import type { CleanMode } from '../args.js';
import { describeBranchState, type WorktreeInfo } from './worktrees.js';

/**
 * What clean decides, before it touches anything. Pure, so every rule is in one place: nothing unmerged and
 * no uncommitted change is ever discarded without --force, and nothing the orchestrator did not create
 * (other branches, the main worktree, worktrees on other branches) is touched even with it.
 */
export interface CleanRequest {
  mode: CleanMode;
  force: boolean;
  /** The branch "merged" refers to; undefined when there is none (then nothing counts as merged). */
  target: string | undefined;
}

export type WorktreeDecision =
  | { action: 'remove'; wt: WorktreeInfo; force: boolean; why: string }
  | { action: 'keep'; wt: WorktreeInfo; why: string; overrides: Override[] };

/** A way to do it anyway, with what it throws away: a plain git command (its arguments after `git`), or clean flags. */
export type Override = { kind: 'git'; args: string[]; loses: string } | { kind: 'clean'; flags: string[]; loses: string };

const CLEAN_ALL: Override = { kind: 'clean', flags: ['--all'], loses: 'nothing unmerged: unmerged branches keep their commits, merged branches are deleted' };
const CLEAN_FORCE: Override = { kind: 'clean', flags: ['--force'], loses: 'the uncommitted changes in merged worktrees and in _merge' };
const CLEAN_ALL_FORCE: Override = { kind: 'clean', flags: ['--all', '--force'], loses: 'every uncommitted change and every unmerged orchestrator branch' };

export interface BranchInfo {
  name: string;
  /** Null when there is no target branch to compare with. */
  merged: boolean | null;
  /** False when the branch has no commits of its own (still at its base); null when `merged` is. */
  ownCommits: boolean | null;
  /** A worktree (after removals) that has it checked out: git cannot delete it, and neither should we. */
  checkedOutIn: string | undefined;
}

export type BranchDecision =
  | { action: 'delete'; branch: string; why: string }
  | { action: 'keep'; branch: string; why: string; overrides: Override[] };

export function decideWorktree(wt: WorktreeInfo, req: CleanRequest): WorktreeDecision {
  const keep = (why: string, ...overrides: Override[]): WorktreeDecision => ({ action: 'keep', wt, why, overrides });
  if (wt.kind === 'other') return keep(`${wt.branch ? `branch ${wt.branch}` : 'a detached worktree'} was not created by the orchestrator`);
  // A run's own lock is released before planning (clean runs only while no run is live); any other lock is someone's.
  if (wt.locked) {
    return keep(`locked with git worktree lock${wt.lockReason ? ` (${wt.lockReason})` : ''}`, { kind: 'git', args: ['worktree', 'unlock', wt.path], loses: 'nothing; then run clean again' });
  }
  // Its folder is already gone: the final `git worktree prune` forgets it.
  if (wt.missing) return { action: 'remove', wt, force: false, why: 'folder already gone' };
  // git cannot read it (its .git file overwritten, or pointing at a moved repository): git refuses to remove it
  // even with --force ("validation failed"), and whether it holds uncommitted work cannot be told. Never removed
  // here; `git worktree repair` rewrites its .git file, then clean can judge it.
  if (wt.unreadable) {
    return keep(`git cannot read it (${wt.unreadable})`, { kind: 'git', args: ['worktree', 'repair', wt.path], loses: 'nothing; then run clean again' });
  }
  const forceRemove = (loses: string): Override => ({ kind: 'git', args: ['worktree', 'remove', '--force', wt.path], loses });
  if (wt.kind === 'merge') {
    // Only the orchestrator works in _merge, and it resets it before every merge: committed content there is
    // always reproducible from the task branches. Uncommitted changes are someone's manual work, though.
    if (!wt.dirty) return { action: 'remove', wt, force: false, why: 'merge worktree' };
    if (req.force) return { action: 'remove', wt, force: true, why: 'merge worktree, uncommitted changes discarded (--force)' };
    return keep('merge worktree with uncommitted changes', forceRemove('its uncommitted changes'), CLEAN_FORCE);
  }
  const mergedNote = describeBranchState(wt, req.target);
  if (req.mode === 'merged' && wt.merged !== true) {
    // Without --all only merged work goes; a clean worktree of an unmerged branch can go with --all, because
    // the branch (kept) still holds every commit.
    return wt.dirty
      ? keep(`${mergedNote}; uncommitted changes`, forceRemove('its uncommitted changes; the branch keeps its commits'), CLEAN_ALL_FORCE)
      : keep(mergedNote, { kind: 'git', args: ['worktree', 'remove', wt.path], loses: 'nothing: the branch keeps its commits' }, CLEAN_ALL);
  }
  if (wt.dirty && !req.force) {
    return keep(`${mergedNote}; uncommitted changes`, forceRemove('its uncommitted changes'), req.mode === 'all' ? CLEAN_ALL_FORCE : CLEAN_FORCE);
  }
  const why = `${wt.branch}, ${mergedNote}${wt.dirty ? ', uncommitted changes discarded (--force)' : ''}`;
  return { action: 'remove', wt, force: wt.dirty, why };
}

/** Only with --all: the task branches and the integration branch. */
export function decideBranch(b: BranchInfo, req: CleanRequest): BranchDecision {
  const keep = (why: string, ...overrides: Override[]): BranchDecision => ({ action: 'keep', branch: b.name, why, overrides });
  if (b.name === req.target) return keep('it is the target branch');
  if (b.checkedOutIn !== undefined) return keep(`checked out in ${b.checkedOutIn}`);
  const mergedNote = describeBranchState(b, req.target);
  if (b.merged === true) return { action: 'delete', branch: b.name, why: mergedNote };
  if (req.force) return { action: 'delete', branch: b.name, why: `${mergedNote}, its commits discarded (--force)` };
  return keep(mergedNote, { kind: 'git', args: ['branch', '-D', b.name], loses: 'its unmerged commits' }, CLEAN_ALL_FORCE);
}
