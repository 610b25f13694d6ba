import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { GitCommandError, gitQuery, gitRaw } from './client.js';
import { worktreeLock } from './layout.js';
import { branchSha } from './repo.js';

export interface WorktreeEntry {
  path: string;
  head: string | undefined;
  /** Short branch name, undefined when detached. */
  branch: string | undefined;
  /** Locked with `git worktree lock`: git refuses to remove it. */
  locked: boolean;
  /** The reason given to `git worktree lock`, when there is one. */
  lockReason: string | undefined;
}

export async function listWorktrees(repoRoot: string): Promise<WorktreeEntry[]> {
  const out = await gitRaw(repoRoot, ['worktree', 'list', '--porcelain']);
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('worktree ')) {
      current = { path: line.slice('worktree '.length), head: undefined, branch: undefined, locked: false, lockReason: undefined };
      entries.push(current);
    } else if (current && line.startsWith('HEAD ')) {
      current.head = line.slice('HEAD '.length);
    } else if (current && line.startsWith('branch ')) {
      current.branch = line.slice('branch '.length).replace(/^refs\/heads\//, '');
    } else if (current && (line === 'locked' || line.startsWith('locked '))) {
      current.locked = true;
      const reason = line.slice('locked '.length);
      if (line !== 'locked' && reason !== '') current.lockReason = reason;
    }
  }
  return entries;
}

/**
 * git 2.39 races when several `git worktree add`s run at once in one repository ("failed to read
 * .git/worktrees/<x>/commondir"), so every worktree change of a repository goes through this queue. One
 * orchestrator process per repository (the run lock) makes an in-process queue enough.
 */
const worktreeQueues = new Map<string, Promise<unknown>>();

export function serializeWorktreeChange<T>(repoRoot: string, change: () => Promise<T>): Promise<T> {
  const key = path.resolve(repoRoot);
  const previous = worktreeQueues.get(key) ?? Promise.resolve();
  const next = previous.then(change, change);
  worktreeQueues.set(key, next.catch(() => undefined));
  return next;
}

export type PrepareOutcome =
  | { kind: 'created'; lock?: LockOutcome }
  | { kind: 'reused'; lock?: LockOutcome }
  | { kind: 'leftover'; message: string; fix: string };

export interface PrepareRequest {
  repoRoot: string;
  worktreePath: string;
  branch: string;
  baseSha: string;
  /** On --resume an existing branch or worktree is the task's own earlier work: take it over. */
  reuse: boolean;
  /** Lock the worktree with this reason once it is ready (as lockWorktree does; the outcome says how it went). */
  lockReason?: string;
}

/**
 * Makes sure the task's worktree exists on its branch (and locks it, given `lockReason`). Nothing the user made is
 * ever removed: an unexpected leftover is reported with the command that clears it, and the user decides.
 *
 * The usual case (nothing at the path) is one git process: `git worktree add --lock -b`, which itself refuses an
 * existing branch or a registered worktree at that path; only then are the leftovers looked at one by one.
 */
export function prepareTaskWorktree(req: PrepareRequest): Promise<PrepareOutcome> {
  return serializeWorktreeChange(req.repoRoot, async () => {
    if (!existsSync(req.worktreePath)) {
      await mkdir(path.dirname(req.worktreePath), { recursive: true });
      const lock = req.lockReason === undefined ? [] : ['--lock', '--reason', req.lockReason];
      const added = await gitQuery(req.repoRoot, ['worktree', 'add', ...lock, '-b', req.branch, req.worktreePath, req.baseSha]);
      if (added !== undefined) return { kind: 'created', ...(req.lockReason === undefined ? {} : { lock: { kind: 'locked' } }) };
    }
    const prepared = await prepareUnlocked(req);
    if (prepared.kind === 'leftover' || req.lockReason === undefined) return prepared;
    return { ...prepared, lock: await lockUnqueued(req.repoRoot, req.worktreePath, req.lockReason) };
  });
}

async function prepareUnlocked(req: PrepareRequest): Promise<PrepareOutcome> {
  const { repoRoot, worktreePath, branch, baseSha, reuse } = req;
  const registered = (await listWorktrees(repoRoot)).find((w) => samePath(w.path, worktreePath));
  const existingBranch = await branchSha(repoRoot, branch);
  // Relative to the repository when inside it; the default folder (under the user's cache) is named as it is.
  const inside = path.relative(repoRoot, worktreePath);
  const rel = inside && !inside.startsWith('..') && !path.isAbsolute(inside) ? inside : worktreePath;
  if (registered) {
    if (existsSync(worktreePath) && !existsSync(path.join(worktreePath, '.git')))
      // The folder was deleted and something wrote into its path again (an agent a killed run left working): reusing
      // it would run the task outside git, and fail the same way on every resume.
      return {
        kind: 'leftover',
        message: `${rel} is registered as the worktree of ${registered.branch ?? 'a detached HEAD'} but is no longer a git worktree (its .git file is gone)`,
        fix: `move or delete ${rel} yourself, then run the same command again; ${registered.branch ? `the branch ${registered.branch} keeps its commits and` : 'git'} gets a fresh worktree`,
      };
    if (registered.branch === branch && existsSync(worktreePath) && reuse) return { kind: 'reused' };
    if (!existsSync(worktreePath)) {
      // prune keeps a locked entry; a lock of ours on a folder that is gone protects nothing.
      if (registered.locked && parseLockReason(registered.lockReason)) await gitRaw(repoRoot, ['worktree', 'unlock', worktreePath]);
      await gitRaw(repoRoot, ['worktree', 'prune']);
    }
    else
      return {
        kind: 'leftover',
        message: `worktree ${rel} already exists${registered.branch ? ` on branch ${registered.branch}` : ''} from an earlier run`,
        fix: reuse
          ? `git worktree remove ${rel}  (after saving anything you need from it)`
          : `orchestrate --resume  to continue that run, or  orchestrate clean  to remove it`,
      };
  }
  if (existsSync(worktreePath)) {
    return {
      kind: 'leftover',
      message: `${rel} exists but is not a git worktree`,
      fix: `move or delete ${rel} yourself; the orchestrator never deletes files it did not create`,
    };
  }
  await mkdir(path.dirname(worktreePath), { recursive: true });
  if (existingBranch) {
    if (!reuse)
      return {
        kind: 'leftover',
        message: `branch ${branch} already exists from an earlier run`,
        fix: `orchestrate --resume  to continue that run, or  git branch -D ${branch}  if its work is not needed`,
      };
    await gitRaw(repoRoot, ['worktree', 'add', worktreePath, branch]);
    return { kind: 'reused' };
  }
  await gitRaw(repoRoot, ['worktree', 'add', '-b', branch, worktreePath, baseSha]);
  return { kind: 'created' };
}

const LOCK_REASON = /^milestone-orchestrator run (\S+), (?:task (\S+)|merge)$/;

/** The reason a run's task worktree is locked with: `milestone-orchestrator run <run id>, task <id>`. */
export function taskLockReason(runId: string, taskId: string): string {
  return `milestone-orchestrator run ${runId}, task ${taskId}`;
}

/** The run (and task) that locked a worktree, when the reason is one the orchestrator writes; undefined otherwise. */
export function parseLockReason(reason: string | undefined): { runId: string; task: string | undefined } | undefined {
  const match = LOCK_REASON.exec(reason ?? '');
  return match?.[1] ? { runId: match[1], task: match[2] } : undefined;
}

export type LockOutcome = { kind: 'locked' } | { kind: 'locked_by_other'; reason: string | undefined };

/**
 * `git worktree lock --reason <reason>`, so `git worktree prune`/`remove` and other tools leave a worktree in use
 * alone. A lock of the orchestrator's own (an earlier, interrupted run's) is replaced; someone else's is left as it is.
 */
export function lockWorktree(repoRoot: string, worktreePath: string, reason: string): Promise<LockOutcome> {
  return serializeWorktreeChange(repoRoot, () => lockUnqueued(repoRoot, worktreePath, reason));
}

async function lockUnqueued(repoRoot: string, worktreePath: string, reason: string): Promise<LockOutcome> {
  const entry = await lockState(repoRoot, worktreePath);
  if (entry?.locked) {
    if (entry.lockReason === reason) return { kind: 'locked' };
    if (!parseLockReason(entry.lockReason)) return { kind: 'locked_by_other', reason: entry.lockReason };
    await gitRaw(repoRoot, ['worktree', 'unlock', worktreePath]);
  }
  await gitRaw(repoRoot, ['worktree', 'lock', '--reason', reason, worktreePath]);
  return { kind: 'locked' };
}

/** Unlocks a worktree, but only a lock with exactly `reason` (a lock someone else took stays). */
export function unlockWorktree(repoRoot: string, worktreePath: string, reason: string): Promise<boolean> {
  return serializeWorktreeChange(repoRoot, async () => {
    const entry = await lockState(repoRoot, worktreePath);
    if (!entry?.locked || entry.lockReason !== reason) return false;
    await gitRaw(repoRoot, ['worktree', 'unlock', worktreePath]);
    return true;
  });
}

/**
 * Whether a worktree is locked, and why: read from its git dir (layout.ts) when it has the usual layout, else
 * from `git worktree list`. Undefined: not a registered worktree.
 */
async function lockState(repoRoot: string, worktreePath: string): Promise<Pick<WorktreeEntry, 'locked' | 'lockReason'> | undefined> {
  const read = worktreeLock(worktreePath);
  if (read) return read.locked ? { locked: true, lockReason: read.reason === '' ? undefined : read.reason } : { locked: false, lockReason: undefined };
  return (await listWorktrees(repoRoot)).find((w) => samePath(w.path, worktreePath));
}

/** Removes a worktree the orchestrator created. `force` discards its uncommitted changes. */
export async function removeWorktree(repoRoot: string, worktreePath: string, force: boolean): Promise<void> {
  await serializeWorktreeChange(repoRoot, () => gitRaw(repoRoot, ['worktree', 'remove', ...(force ? ['--force'] : []), worktreePath]));
}

/**
 * Keeps the orchestrator's own folders out of the user's `git status` without editing their .gitignore:
 * .git/info/exclude is local to the clone and never committed.
 */
export async function ensureExcluded(commonDir: string, patterns: readonly string[]): Promise<void> {
  const file = path.join(commonDir, 'info', 'exclude');
  const existing = existsSync(file) ? await readFile(file, 'utf8') : '';
  const lines = new Set(existing.split(/\r?\n/).map((l) => l.trim()));
  const missing = patterns.filter((p) => !lines.has(p));
  if (missing.length === 0) return;
  await mkdir(path.dirname(file), { recursive: true });
  const prefix = existing.length > 0 && !existing.endsWith('\n') ? '\n' : '';
  await appendFile(file, `${prefix}# milestone-orchestrator\n${missing.join('\n')}\n`);
}

export function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

export async function worktreeHead(worktreePath: string): Promise<string | undefined> {
  return (await gitQuery(worktreePath, ['rev-parse', '--verify', '--quiet', 'HEAD'])) || undefined;
}

/**
 * Why git cannot read the worktree at `worktreePath` (its `.git` file overwritten by a command that ran there, or
 * naming a repository that moved): git's last line of complaint, e.g. "fatal: invalid gitfile format: …/.git".
 * Undefined when git reads it. One git process.
 */
export async function worktreeReadProblem(worktreePath: string): Promise<string | undefined> {
  try {
    await gitRaw(worktreePath, ['rev-parse', '--git-dir']);
    return undefined;
  } catch (error) {
    if (!(error instanceof GitCommandError)) throw error;
    return error.stderr.trim().split('\n').at(-1) || error.message;
  }
}
