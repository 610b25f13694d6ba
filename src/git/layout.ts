import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Facts about a working tree read from git's on-disk layout (gitrepository-layout(5)) instead of asking a git
 * process: every git process costs the orchestrator a fork of itself, and these are asked for every task. Each
 * answer is `undefined` when the layout is not the documented one (a `.git` file pointing elsewhere, a worktree
 * under a `$GIT_DIR` override, an unreadable file), and the caller then asks git as before.
 */

/**
 * The git directory of the worktree whose top level is `worktree` (absolute): `<worktree>/.git` when that is a
 * directory (the main worktree), else the path a `gitdir: <path>` file names (a linked worktree; relative paths
 * are relative to the worktree, as git writes them with `worktree.useRelativePaths`). Undefined: not a worktree top.
 */
export function worktreeGitDir(worktree: string): string | undefined {
  const dotGit = path.join(worktree, '.git');
  try {
    const text = readFileSync(dotGit, 'utf8');
    const match = /^gitdir: (.+?)\r?\n?$/.exec(text);
    return match?.[1] ? path.resolve(worktree, match[1]) : undefined;
  } catch (err) {
    // EISDIR: the main worktree's own .git directory.
    return (err as NodeJS.ErrnoException).code === 'EISDIR' ? dotGit : undefined;
  }
}

/**
 * The repository's common git directory (objects, refs, config, hooks) for a worktree top level: a linked
 * worktree's git dir names it in its `commondir` file (relative to that git dir); the main worktree's git dir is it.
 */
export function commonGitDir(worktree: string): string | undefined {
  const gitDir = worktreeGitDir(worktree);
  if (gitDir === undefined) return undefined;
  try {
    return path.resolve(gitDir, readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && gitDir === path.join(worktree, '.git') ? gitDir : undefined;
  }
}

/**
 * The lock of a linked worktree (`git worktree lock`): `{ locked: false }`, or `{ locked: true, reason }` with the
 * reason stored in `<git dir>/locked`, trimmed as git trims it (empty when none was given). Undefined when it cannot be read
 * (not a linked worktree's layout, or the worktree folder is gone): ask `git worktree list` instead.
 */
export function worktreeLock(worktree: string): { locked: false } | { locked: true; reason: string } | undefined {
  const gitDir = worktreeGitDir(worktree);
  // A main worktree cannot be locked; only a linked one's git dir lives under <common dir>/worktrees/.
  if (gitDir === undefined || path.basename(path.dirname(gitDir)) !== 'worktrees' || !existsSync(path.join(gitDir, 'HEAD'))) return undefined;
  try {
    // git trims the stored reason when it reads it (worktree.c), so `worktree list` shows it trimmed too.
    return { locked: true, reason: readFileSync(path.join(gitDir, 'locked'), 'utf8').trim() };
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? { locked: false } : undefined;
  }
}
