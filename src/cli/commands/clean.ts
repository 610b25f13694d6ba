import { runGitWithoutHooks } from '../../git/client.js';
import { realpathSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { gitQuery, gitRaw } from '../../git/client.js';
import { branchSha } from '../../git/repo.js';
import { isStagingName } from '../../provision/index.js';
import { listWorktrees, removeWorktree, unlockWorktree } from '../../git/worktree.js';
import { integrationBranchFor } from '../../run/context.js';
import type { CleanOptions } from '../args.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../main.js';
import { fail } from '../print.js';
import { takeLock } from './clean-lock.js';
import { decideBranch, decideWorktree, type BranchDecision, type BranchInfo, type CleanRequest, type Override, type WorktreeDecision } from './clean-plan.js';
import { compareWithTarget, orchestratorWorktrees, taskIdOf, type WorktreeInfo } from './worktrees.js';
import { openWorkspace, readState, shownPath, targetBranch, type Workspace } from './workspace.js';
import { terminalSafe } from '../terminal-safe.js';

/** What happened, in order, for the report: every removal, every item kept with why, every failure. */
interface Outcome {
  lines: string[];
  removed: number;
  deleted: number;
  kept: number;
  failures: string[];
}

/**
 * `orchestrate clean`: removes the orchestrator's worktrees (merged ones by default; with --all every one
 * without uncommitted changes, and the merged task and integration branches). The rules live in clean-plan.ts;
 * this file holds the lock, asks git, carries the decisions out and reports them.
 */
export async function cleanCommand(opts: CleanOptions, io: Io): Promise<number> {
  // Read-only questions and removals: no git command here needs a hook, the fsmonitor or a look inside submodules,
  // and a worktree (or a repository an agent nested in it) may name commands for each (git/client.ts).
  runGitWithoutHooks();
  const opened = await openWorkspace(opts, io);
  if (!opened.ok) return opened.code;
  const ws = opened.workspace;
  const read = await readState(ws, io);
  if (!read.ok) return read.code;
  const lock = await takeLock(ws.lockFile, `orchestrate clean${opts.mode === 'all' ? ' --all' : ''}${opts.force ? ' --force' : ''}`);
  if (!lock.held) {
    io.stderr(fail(`cannot clean now: ${lock.reason}`, 'wait for the run to finish, or stop it (Ctrl-C); a lock whose process has exited (a crashed run) is taken over automatically'));
    return EXIT.locked;
  }
  try {
    if (lock.tookOverFrom) io.stdout(`Took over a stale lock from pid ${lock.tookOverFrom.pid} (no longer running).\n`);
    const target = targetBranch(ws, read.state);
    const outcome = await clean(ws, { mode: opts.mode, force: opts.force, target }, commandsFor(opts, ws, io));
    io.stdout(terminalSafe(report(outcome, opts)));
    for (const failure of outcome.failures) io.stderr(fail(failure));
    return outcome.failures.length > 0 ? EXIT.runFailed : EXIT.ok;
  } finally {
    await lock.release();
  }
}

async function clean(ws: Workspace, req: CleanRequest, cli: Commands): Promise<Outcome> {
  const outcome: Outcome = { lines: [], removed: 0, deleted: 0, kept: 0, failures: [] };
  for (const wt of await orchestratorWorktrees(ws, req.target)) {
    const released = wt.lockedBy ? await releaseRunLock(ws, wt, outcome) : wt;
    await applyWorktree(ws, decideWorktree(released, req), outcome, cli);
  }
  // Forgets worktrees whose folders are gone; before the branches, because git will not delete a branch that
  // a registered (even missing) worktree still has checked out.
  await gitRaw(ws.repo.root, ['worktree', 'prune']);
  await removeProvisioningLeftovers(ws, outcome);
  // The worktree folder itself, once empty; rmdir leaves it if anything else is in it.
  await rmdir(ws.worktreeDir).catch(() => undefined);
  if (req.mode === 'all') {
    for (const branch of await orchestratorBranches(ws, req.target)) await applyBranch(ws, decideBranch(branch, req), outcome, cli);
  }
  return outcome;
}

/**
 * Copies of node_modules that a provisioning cut off by kill -9 left beside the worktrees (as large as node_modules
 * itself). Clean holds the run lock, so no provisioning is under way: every one is a leftover.
 */
async function removeProvisioningLeftovers(ws: Workspace, out: Outcome): Promise<void> {
  const names = await readdir(ws.worktreeDir).catch(() => [] as string[]);
  for (const name of names.filter(isStagingName).sort()) {
    const leftover = path.join(ws.worktreeDir, name);
    try {
      await rm(leftover, { recursive: true, force: true });
      out.lines.push(`Removed ${shownPath(ws.repo.root, leftover)} (an interrupted copy of node_modules)`);
    } catch (err) {
      out.failures.push(`could not remove ${shownPath(ws.repo.root, leftover)}: ${(err as Error).message}`);
    }
  }
}

/**
 * Clean holds the run lock, so the run that locked this worktree is not live: its lock protects nothing any more
 * (an interrupted task's worktree is kept or removed by the same rules as any other). Unlocked whatever is decided,
 * so the commands printed for kept worktrees work as printed.
 */
async function releaseRunLock(ws: Workspace, wt: WorktreeInfo, out: Outcome): Promise<WorktreeInfo> {
  try {
    await unlockWorktree(ws.repo.root, wt.absPath, wt.lockReason ?? '');
    out.lines.push(`Unlocked worktree ${wt.path} (locked by run ${wt.lockedBy?.run}, which is not running)`);
    return { ...wt, locked: false, lockReason: null, lockedBy: null };
  } catch (err) {
    out.failures.push(`could not unlock worktree ${wt.path}: ${(err as Error).message}`);
    return wt;
  }
}

async function applyWorktree(ws: Workspace, d: WorktreeDecision, out: Outcome, cli: Commands): Promise<void> {
  switch (d.action) {
    case 'keep':
      out.kept += 1;
      out.lines.push(`Kept worktree ${d.wt.path}: ${d.why}`, ...overrideLines(d.overrides, cli));
      return;
    case 'remove':
      try {
        if (!d.wt.missing) await removeWorktree(ws.repo.root, d.wt.absPath, d.force);
        out.removed += 1;
        out.lines.push(`Removed worktree ${d.wt.path} (${d.why})`);
      } catch (err) {
        out.failures.push(`could not remove worktree ${d.wt.path}: ${(err as Error).message}`);
      }
      return;
    default: {
      const never: never = d;
      return never;
    }
  }
}

async function applyBranch(ws: Workspace, d: BranchDecision, out: Outcome, cli: Commands): Promise<void> {
  switch (d.action) {
    case 'keep':
      out.kept += 1;
      out.lines.push(`Kept branch ${d.branch}: ${d.why}`, ...overrideLines(d.overrides, cli));
      return;
    case 'delete':
      try {
        // -D, not -d: -d measures "merged" against HEAD, which may not be the target; the plan checked already.
        await gitRaw(ws.repo.root, ['branch', '-D', d.branch]);
        out.deleted += 1;
        out.lines.push(`Deleted branch ${d.branch} (${d.why})`);
      } catch (err) {
        out.failures.push(`could not delete branch ${d.branch}: ${(err as Error).message}`);
      }
      return;
    default: {
      const never: never = d;
      return never;
    }
  }
}

/** `<branch_prefix><milestone id>` branches and the integration branch: never any other. */
async function orchestratorBranches(ws: Workspace, target: string | undefined): Promise<BranchInfo[]> {
  const refs = (await gitQuery(ws.repo.root, ['for-each-ref', '--format=%(refname)', 'refs/heads/'])) ?? '';
  const integration = integrationBranchFor(ws.config);
  const names = refs
    .split('\n')
    .map((r) => r.replace(/^refs\/heads\//, ''))
    .filter((name) => name === integration || taskIdOf(ws, name) !== undefined)
    .sort();
  const checkedOut = new Map<string, string>();
  for (const w of await listWorktrees(ws.repo.root)) if (w.branch) checkedOut.set(w.branch, shownPath(ws.repo.root, w.path));
  const targetExists = target !== undefined && (await branchSha(ws.repo.root, target)) !== undefined;
  return Promise.all(
    names.map(async (name) => ({
      name,
      ...(targetExists ? await compareWithTarget(ws.repo.root, name, target, name !== integration) : { merged: null, ownCommits: null }),
      checkedOutIn: checkedOut.get(name),
    })),
  );
}

/** One line per way to do it anyway, shell-comment style so the command copies cleanly. */
function overrideLines(overrides: readonly Override[], cli: Commands): string[] {
  return overrides.map((o) => {
    switch (o.kind) {
      case 'git':
        return `  ${cli.git(o.args)}   # loses ${o.loses}`;
      case 'clean':
        return `  ${cli.clean(o.flags)}   # loses ${o.loses}`;
      default: {
        const never: never = o;
        return never;
      }
    }
  });
}

function report(o: Outcome, opts: CleanOptions): string {
  if (o.lines.length === 0) return 'Nothing to clean: no orchestrator worktrees' + (opts.mode === 'all' ? ' or branches.\n' : '.\n');
  const summary = [`${o.removed} worktree${o.removed === 1 ? '' : 's'} removed`];
  if (opts.mode === 'all') summary.push(`${o.deleted} branch${o.deleted === 1 ? '' : 'es'} deleted`);
  summary.push(`${o.kept} kept`);
  const branchesNote = opts.mode === 'merged' ? ' Branches are kept; clean --all deletes the merged ones.' : '';
  return `${o.lines.join('\n')}\n${summary.join(', ')}.${branchesNote}\n`;
}

/** Commands to override a decision, as typed where the user is: they must act on the same repository. */
interface Commands {
  clean: (flags: string[]) => string;
  git: (args: string[]) => string;
}

function commandsFor(opts: CleanOptions, ws: Workspace, io: Io): Commands {
  const where = path.resolve(io.cwd, opts.cwd) === path.resolve(io.cwd) ? [] : ['--cwd', ws.repo.root];
  const config = opts.config ? ['--config', opts.config] : [];
  // Paths in the git commands are relative to the repository root, so they need -C unless that is here.
  const gitAt = realOrSelf(io.cwd) === ws.repo.root ? [] : ['-C', ws.repo.root];
  return {
    clean: (flags) => ['orchestrate', 'clean', ...flags, ...where, ...config].map(shellWord).join(' '),
    git: (args) => ['git', ...gitAt, ...args].map(shellWord).join(' '),
  };
}

function realOrSelf(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** Quotes a word for a POSIX shell only when it needs it, so the common case stays readable. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
