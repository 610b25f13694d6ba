import { createRedactor } from '../agents/redact.js';
import { existsSync } from 'node:fs';
import { lstat, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GitCommandError, gitQuery, gitRaw, gitText } from './client.js';
import { identityArgs } from './commit.js';
import { isAncestor, branchSha } from './repo.js';
import { initSubmodules } from './submodules.js';
import { listWorktrees, lockWorktree, parseLockReason, samePath, serializeWorktreeChange, unlockWorktree } from './worktree.js';

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
  /** `git worktree lock` reason held while merging (mergeLockReason), released at the end; none: not locked. */
  lockReason?: string;
}): Promise<MergeOutcome> {
  const { repoRoot, mergeWorktreePath: wt, lockReason } = opts;
  await checkoutDetached(repoRoot, wt, opts.baseSha);
  if (lockReason === undefined) return mergeBranches(opts);
  await lockWorktree(repoRoot, wt, lockReason);
  try {
    return await mergeBranches(opts);
  } finally {
    await unlockWorktree(repoRoot, wt, lockReason).catch(() => undefined);
  }
}

/** The reason the merge worktree is locked with while a run merges in it. */
export function mergeLockReason(runId: string): string {
  return `milestone-orchestrator run ${runId}, merge`;
}

async function mergeBranches(opts: { repoRoot: string; mergeWorktreePath: string; branches: readonly BranchToMerge[]; resolve?: ConflictResolver }): Promise<MergeOutcome> {
  const { repoRoot, mergeWorktreePath: wt, branches } = opts;
  const who = await identityArgs(wt);
  const merged: string[] = [];
  const resolved: string[] = [];
  const redact = createRedactor(process.env);
  for (const { branch, message: rawMessage } of branches) {
    // The message names the milestone's title: a secret in it must not enter history.
    const message = redact(rawMessage);
    // A branch already in (a same-stage dependent carried it, or a resumed run merged it) is "Already up to date":
    // git merges nothing and exits 0, --no-ff or not, so no ancestry question is asked first.
    const result = await gitQuery(wt, [...who, 'merge', '--no-ff', '--no-edit', '--no-verify', '-m', message, branch]);
    if (result === undefined) {
      // A merge that stopped has not moved HEAD: it is still the result so far, before the resolver touches it.
      const head = await gitRaw(wt, ['rev-parse', 'HEAD']);
      const files = await conflictedFiles(wt);
      // The resolution is checked with the milestones' checks, which may need the submodules' files (the merge
      // itself does not). A submodule that cannot be set up here only makes those checks fail.
      if (opts.resolve) await initSubmodules(wt, repoRoot).catch(() => undefined);
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
  if (registered) {
    // prune keeps a locked entry; a lock of ours (a crashed run's) on a folder that is gone protects nothing.
    const entry = (await listWorktrees(repoRoot)).find((w) => samePath(w.path, wt));
    if (entry?.locked && parseLockReason(entry.lockReason)) await gitRaw(repoRoot, ['worktree', 'unlock', wt]);
    await gitRaw(repoRoot, ['worktree', 'prune']);
  }
  await gitRaw(repoRoot, ['worktree', 'add', '-q', '--detach', wt, sha]);
}

export type AdvanceOutcome =
  | { moved: true; how: 'update-ref' | 'fast-forward'; /** Own files set aside and written again on the new content. */ setAside: string[] }
  | {
      moved: false;
      integrationBranch: string;
      reason: string;
      /** The user's uncommitted files in the way (relative to `worktree`), when that is why. */
      userFiles: string[];
      /** A shell command that takes the result onto the target, tested to work in the situation it was made for. */
      command: string;
    };

/**
 * A file the orchestrator itself rewrites in the working tree where the target is checked out (TASKS.md's progress
 * block). Its own edit never stops the target from advancing: it is set aside, the target is fast-forwarded, and
 * the edit is made again on the file's new content.
 */
export interface OwnFile {
  /** Absolute path. */
  path: string;
  /** True when the working-tree text differs from the committed one (undefined: not in HEAD) only by our edit. */
  onlyOwnEdit: (current: string, committed: string | undefined) => boolean;
  /** The file's new text after the advance: our edit made on `committed` (undefined: the new HEAD has no such file). */
  reapply: (committed: string | undefined) => string;
}

/**
 * Moves the target branch to the merged result only when that cannot hurt the user's work: the branch is not
 * checked out anywhere (a ref update), or it is checked out in a working tree whose only uncommitted changes are the
 * orchestrator's own (a fast-forward that git itself refuses if it would overwrite anything). Otherwise the result
 * goes to the integration branch, with the reason, the user's files in the way and a command that works.
 */
export async function advanceTarget(opts: {
  repoRoot: string;
  target: string;
  expectedOld: string;
  newSha: string;
  integrationBranch: string;
  ownFiles: readonly OwnFile[];
}): Promise<AdvanceOutcome> {
  const { repoRoot, target, expectedOld, newSha, integrationBranch } = opts;
  const current = await branchSha(repoRoot, target);
  const fallback = async (reason: string, command: string, userFiles: string[] = []): Promise<AdvanceOutcome> => {
    await gitRaw(repoRoot, ['branch', '-f', integrationBranch, newSha]);
    return { moved: false, integrationBranch, reason, userFiles, command };
  };
  if (current === newSha) return { moved: true, how: 'update-ref', setAside: [] };
  if (current === undefined) return fallback(`branch ${target} no longer exists`, `git branch ${target} ${integrationBranch}`);
  if (current !== expectedOld && !(await isAncestor(repoRoot, current, newSha))) {
    const outcome = await fallback(`${target} moved during the run (now ${current.slice(0, 7)})`, '');
    return outcome.moved ? outcome : { ...outcome, command: await takeResultCommand({ repoRoot, target, integrationBranch, ownFiles: opts.ownFiles }) };
  }
  const checkedOut = (await listWorktrees(repoRoot)).find((w) => w.branch === target);
  if (!checkedOut) {
    await gitRaw(repoRoot, ['update-ref', `refs/heads/${target}`, newSha, current]);
    return { moved: true, how: 'update-ref', setAside: [] };
  }
  const wt = checkedOut.path;
  // Twice at most: the orchestrator may rewrite its own file (TASKS.md) between the look and the fast-forward.
  for (let attempt = 1; ; attempt++) {
    const { user: changed, untracked, own } = await classifyChanges(wt, opts.ownFiles);
    const incoming = changed.length > 0 ? await changedBetween(wt, current, newSha) : new Set<string>();
    // An untracked file of yours that the result does not bring in (a log folder, a local .env) is kept by git's
    // fast-forward as it is: it does not hold the target back. A tracked file you changed does: you are mid-edit.
    const user = changed.filter((f) => !untracked.has(f) || touches(incoming, f));
    if (user.length > 0) {
      const inWay = user.filter((f) => touches(incoming, f));
      const command = takeCommand(wt, repoRoot, integrationBranch, inWay, own.filter((o) => incoming.has(o.rel)).map((o) => o.rel), inWay.some((f) => untracked.has(f)));
      const listed = `${user.slice(0, 5).join(', ')}${user.length > 5 ? `, … (${user.length} files)` : ''}`;
      return fallback(`${target} is checked out in ${samePath(wt, repoRoot) ? 'your working tree' : wt} with your uncommitted changes (${listed})`, command, user);
    }
    const aside = await setAside(wt, own);
    const ff = await fastForward(wt, newSha);
    if (ff.ok) {
      for (const file of aside) {
        // The result may bring the file in as a link (a task committed one): never read or write through it.
        if (!(await isPlainFileOrMissing(file.abs))) continue;
        const committed = existsSync(file.abs) ? await readFile(file.abs, 'utf8') : undefined;
        await writeFile(file.abs, file.own.reapply(committed));
      }
      return { moved: true, how: 'fast-forward', setAside: aside.map((a) => a.rel) };
    }
    await putBack(aside);
    if (attempt < 2) continue;
    const outcome = await fallback(`${target} could not be fast-forwarded: ${ff.message}`, '');
    if (outcome.moved) return outcome;
    return { ...outcome, command: await takeResultCommand({ repoRoot, target, integrationBranch, ownFiles: opts.ownFiles }) };
  }
}

/**
 * The command that takes the merged result on `integrationBranch` onto `target` as the repository is now (the
 * user may have changed things since the run): a fast-forward where the target is checked out, with the files in
 * its way stashed or (the orchestrator's own edits) dropped; a ref fast-forward when it is not checked out; a real
 * merge when the target has moved on. Same rules as advanceTarget's fallback; changes nothing.
 */
export async function takeResultCommand(opts: { repoRoot: string; target: string; integrationBranch: string; ownFiles: readonly OwnFile[] }): Promise<string> {
  const { repoRoot, target, integrationBranch } = opts;
  const [current, result] = await Promise.all([branchSha(repoRoot, target), branchSha(repoRoot, integrationBranch)]);
  const checkedOut = (await listWorktrees(repoRoot)).find((w) => w.branch === target);
  if (current === undefined) return `git branch ${shellWord(target)} ${shellWord(integrationBranch)}`;
  if (result === undefined || !checkedOut) {
    // `git fetch . a:b` moves a branch that is not checked out, and refuses anything but a fast-forward.
    return result !== undefined && (await isAncestor(repoRoot, current, result))
      ? `git fetch . ${shellWord(`${integrationBranch}:${target}`)}`
      : `git checkout ${shellWord(target)} && git merge ${shellWord(integrationBranch)}`;
  }
  if (!(await isAncestor(repoRoot, current, result))) return gitIn(checkedOut.path, repoRoot, ['merge', integrationBranch]);
  const { user, untracked, own } = await classifyChanges(checkedOut.path, opts.ownFiles);
  const incoming = await changedBetween(checkedOut.path, current, result);
  const inWay = user.filter((f) => touches(incoming, f));
  return takeCommand(
    checkedOut.path,
    repoRoot,
    integrationBranch,
    inWay,
    own.filter((o) => incoming.has(o.rel)).map((o) => o.rel),
    inWay.some((f) => untracked.has(f)),
  );
}

interface OwnChange {
  own: OwnFile;
  abs: string;
  /** Relative to the worktree, forward slashes (as git names it). */
  rel: string;
  tracked: boolean;
  /** The working-tree text, to put back if the advance fails. */
  text: string;
}

/** The worktree's uncommitted paths, split into the user's and the orchestrator's own edits. */
async function classifyChanges(wt: string, ownFiles: readonly OwnFile[]): Promise<{ user: string[]; untracked: Set<string>; own: OwnChange[] }> {
  const user: string[] = [];
  const userUntracked = new Set<string>();
  const own: OwnChange[] = [];
  for (const file of await statusEntries(wt)) {
    const match = ownFiles.find((o) => samePath(o.path, path.join(wt, file.path)));
    // Staged by someone: the user's. Deleted or renamed: not our edit either.
    const untracked = file.index === '?';
    const ours = match && (untracked || (file.index === ' ' && file.working_dir === 'M'));
    if (!match || !ours) {
      user.push(file.path);
      if (untracked) userUntracked.add(file.path);
      continue;
    }
    const text = await readFile(match.path, 'utf8');
    const committed = untracked ? undefined : await rawShow(wt, file.path);
    if (match.onlyOwnEdit(text, committed)) own.push({ own: match, abs: match.path, rel: file.path, tracked: !untracked, text });
    else user.push(file.path);
  }
  return { user, untracked: userUntracked, own };
}

/** Whether the incoming paths include `entry`, or lie under it when git listed an untracked folder (`logs/`). */
function touches(incoming: ReadonlySet<string>, entry: string): boolean {
  if (incoming.has(entry)) return true;
  if (!entry.endsWith('/')) return false;
  for (const p of incoming) if (p.startsWith(entry)) return true;
  return false;
}

/** `git show HEAD:<path>`, byte for byte (a file's last newline matters here). */
function rawShow(wt: string, rel: string): Promise<string> {
  return gitText(wt, ['show', `HEAD:${rel}`]);
}

/**
 * `git status` entries (index and working-tree codes, path). --no-optional-locks: this also answers `orchestrate
 * status`, which writes nothing, not even a refreshed index; --no-renames: a rename is its two paths.
 */
async function statusEntries(wt: string): Promise<Array<{ index: string; working_dir: string; path: string }>> {
  const out = await gitText(wt, ['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--no-renames', '--untracked-files=normal']);
  return out
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => ({ index: entry[0]!, working_dir: entry[1]!, path: entry.slice(3) }));
}

/** Back to the committed state: the tracked file from HEAD, an untracked one (ours entirely) removed. */
async function setAside(wt: string, own: OwnChange[]): Promise<OwnChange[]> {
  for (const file of own) {
    if (file.tracked) await gitRaw(wt, ['checkout', '-q', '--', file.rel]);
    else await rm(file.abs, { force: true });
  }
  return own;
}

async function isPlainFileOrMissing(file: string): Promise<boolean> {
  try {
    return (await lstat(file)).isFile();
  } catch {
    return true;
  }
}

async function putBack(aside: OwnChange[]): Promise<void> {
  for (const file of aside) await writeFile(file.abs, file.text);
}

async function fastForward(wt: string, sha: string): Promise<{ ok: true } | { ok: false; message: string }> {
  try {
    // --no-overwrite-ignore: a file git ignores in the user's checkout (their .env, a data folder) is theirs; a task
    // that un-ignores and commits the same path (or a link in place of its folder) had git's fast-forward delete or
    // overwrite it silently (measured, git 2.39). git refuses instead and names it; the result waits on the
    // integration branch.
    await gitRaw(wt, ['merge', '--ff-only', '--no-overwrite-ignore', '-q', sha]);
    return { ok: true };
  } catch (err) {
    const stderr = err instanceof GitCommandError ? err.stderr : String(err);
    return { ok: false, message: stderr.replace(/\s+/g, ' ').trim() || 'git refused' };
  }
}

async function changedBetween(wt: string, from: string, to: string): Promise<Set<string>> {
  const out = (await gitQuery(wt, ['diff', '--name-only', '--no-renames', from, to])) ?? '';
  return new Set(out.split('\n').filter(Boolean));
}

/**
 * What the user runs to take the result: a plain fast-forward when none of their changes is in the way (git keeps
 * them), else their files in the way stashed around it (the stash is kept if popping conflicts) and our own edits
 * dropped (the orchestrator writes its block again on the next run; `orchestrate status` shows the same). An
 * untracked file in the way is stashed too (`--include-untracked`): `stash push -- <it>` refuses a path git does not track.
 */
function takeCommand(wt: string, repoRoot: string, integrationBranch: string, userInWay: string[], ownInWay: string[], untrackedInWay = false): string {
  const g = (args: string[]) => gitIn(wt, repoRoot, args);
  const parts: string[] = [];
  if (ownInWay.length > 0) parts.push(g(['checkout', '--', ...ownInWay]));
  if (userInWay.length > 0) parts.push(g(['stash', 'push', ...(untrackedInWay ? ['--include-untracked'] : []), '-m', 'before taking the milestone-orchestrator result', '--', ...userInWay]));
  parts.push(g(['merge', '--ff-only', '--no-overwrite-ignore', integrationBranch]));
  if (userInWay.length > 0) parts.push(g(['stash', 'pop']));
  return parts.join(' && ');
}

/** A git command as typed at the repository root: `-C` when the target is checked out in another worktree. */
function gitIn(wt: string, repoRoot: string, args: string[]): string {
  return ['git', ...(samePath(wt, repoRoot) ? [] : ['-C', wt]), ...args].map(shellWord).join(' ');
}

/** Quotes a word for a POSIX shell only when it needs it. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
