import { createRedactor } from '../agents/redact.js';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROTECTED_NAMES, type CommandSandbox } from '../sandbox/plan.js';
import { sandboxedSpawn } from '../sandbox/command.js';
import { runProcessGroup } from '../util/process.js';
import { gitEnv, gitQuery, gitRaw, NO_HOOKS_PATH } from './client.js';
import { commonGitDir } from './layout.js';
import { nestedRepositories, type NestedRepository } from './nested.js';
import { closeQuarantine, discardQuarantine, openQuarantine } from './quarantine.js';
import { branchProgress } from './repo.js';
import { commitConfig, type CommitConfig } from './repo-config.js';

const execFileAsync = promisify(execFile);

/**
 * The hooks a commit made on an agent's behalf runs (the ones `git commit --no-verify` would skip; in the sandbox
 * also prepare-commit-msg and post-commit, which the commit itself then does not run).
 */
export type CommitHook = 'pre-commit' | 'prepare-commit-msg' | 'commit-msg' | 'post-commit';

export type CommitResult =
  /** `commits`: with `since`, the commits from `since` to the new head (the agent's own included). */
  | { kind: 'committed'; sha: string; commits?: number }
  | { kind: 'nothing' }
  /**
   * The worktree holds a git repository of its own (nested.ts): refused before anything is staged, because
   * `git add` would run git inside it, with that repository's own configuration, as the user.
   */
  | { kind: 'nested_repository'; nested: NestedRepository[] }
  /** The repository's own hook refused the commit: the changes stay staged in the worktree, nothing is committed. */
  | {
      kind: 'hook_failed';
      hook: CommitHook;
      /** Undefined when the hook did not exit by itself (stopped, or killed by a signal). */
      exitCode: number | undefined;
      output: string;
      /**
       * Set when the orchestrator stopped the hook: at its time limit (`afterS`, seconds, fractions kept: a 0.5 s
       * limit is not "1 s"), or on Ctrl-C; or threw away what a sandboxed hook that passed staged, because it
       * changed paths no agent, check or hook may write (`protected`: `.claude/…`, `.mcp.json`).
       */
      stopped?: { by: 'timeout'; afterS: number } | { by: 'interrupt' } | { by: 'protected'; paths: string[] };
    };

export interface CommitOptions {
  /** Run the pre-commit and commit-msg hooks (default true). */
  hooks?: boolean;
  /** Per hook, in ms: a hook still running then is stopped and counts as failed. Default: no limit. */
  hookTimeoutMs?: number;
  /** Stops a running hook (Ctrl-C); the commit is then not made and the hook counts as failed. */
  signal?: AbortSignal;
  /**
   * Run the hooks inside this sandbox (the agents' commits: the hook runs files the agent may have written), on a
   * quarantined index and object folder (quarantine.ts); the commit itself is made outside it.
   */
  sandbox?: CommandSandbox;
  /** A base commit: the result then also counts the commits from it to the new head, with no extra git process. */
  since?: string;
}

/**
 * Commits everything left uncommitted in a worktree. A worktree holding a git repository of its own (a `.git`
 * folder below its top, untracked or a gitlink: nested.ts) gives `nested_repository` and nothing is staged. Uses a fallback identity only when the repository has none,
 * so users' own identity wins.
 *
 * With `hooks` (the default), the repository's `pre-commit` and `commit-msg` hooks run first, wherever git finds
 * them (`core.hooksPath` included), each through `git hook run` so a failure names its hook; the commit itself
 * then passes `--no-verify` so they do not run twice (prepare-commit-msg and post-commit still run, as in any
 * commit). A hook that exits non-zero gives `hook_failed` with its output (stdout and stderr, in order).
 * With `sandbox`, each hook runs in bubblewrap with the repository's `.git` read-only; what it staged is taken
 * over afterwards (quarantine.ts). prepare-commit-msg and post-commit then run there too, and the commit itself
 * runs no hook.
 * Without `hooks` nothing is checked: the caller said so.
 */
export async function commitAll(cwd: string, rawMessage: string, opts: CommitOptions = {}): Promise<CommitResult> {
  // The message names the milestone's title: a secret in it (an agent.env value, a token) must not enter history.
  const message = createRedactor(process.env)(rawMessage);
  const nested = await nestedRepositories(cwd);
  if (nested.length > 0) return { kind: 'nested_repository', nested };
  await gitRaw(cwd, ['add', '-A']);
  if (!(await hasStaged(cwd))) return { kind: 'nothing' };
  const dir = await mkdtemp(path.join(tmpdir(), 'mo-commit-'));
  try {
    const messageFile = path.join(dir, 'COMMIT_EDITMSG');
    await writeFile(messageFile, message.endsWith('\n') ? message : `${message}\n`);
    const config = await commitConfig(cwd);
    if (opts.hooks ?? true) {
      // A hook git would not find (no file) is not started at all: `git hook run --ignore-missing` would do nothing.
      if (mayHaveHook(cwd, config, 'pre-commit')) {
        const pre = await runHook(cwd, 'pre-commit', [], opts, dir);
        if (pre) return pre;
        // A pre-commit hook may restage (lint-staged) or unstage what it fixed: commit what is staged now.
        if (!(await hasStaged(cwd))) return { kind: 'nothing' };
      }
      // Sandboxed, the commit below runs no hook (its hooks path may be in the worktree, husky's is): this one runs here.
      if (opts.sandbox && mayHaveHook(cwd, config, 'prepare-commit-msg')) {
        const prepare = await runHook(cwd, 'prepare-commit-msg', [messageFile, 'message'], opts, dir);
        if (prepare) return prepare;
      }
      if (mayHaveHook(cwd, config, 'commit-msg')) {
        const msg = await runHook(cwd, 'commit-msg', [messageFile], opts, dir);
        if (msg) return msg;
      }
    }
    const noHooks = opts.sandbox ? ['-c', `core.hooksPath=${NO_HOOKS_PATH}`] : [];
    await gitRaw(cwd, [...config.identityArgs, ...noHooks, 'commit', '--no-verify', '-q', '-F', messageFile]);
    // As git does, post-commit's exit status changes nothing.
    if (opts.sandbox && (opts.hooks ?? true) && mayHaveHook(cwd, config, 'post-commit')) await runHook(cwd, 'post-commit', [], opts, dir);
    if (opts.since === undefined) return { kind: 'committed', sha: await gitRaw(cwd, ['rev-parse', 'HEAD']) };
    const progress = await branchProgress(cwd, opts.since);
    if (progress.head === undefined) throw new Error(`no HEAD in ${cwd} right after committing`);
    return { kind: 'committed', sha: progress.head, commits: progress.commits };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * False only when the hook's file does not exist where git looks for it (`core.hooksPath`, else the common git
 * dir's hooks/): git then runs nothing. True when it exists (git decides whether it is executable) or when the
 * place cannot be worked out here (`~user/`, `%(prefix)/`, an unusual layout): git is asked.
 */
function mayHaveHook(cwd: string, config: CommitConfig, hook: CommitHook): boolean {
  const dir = hooksDir(cwd, config.hooksPath);
  return dir === undefined || existsSync(path.join(dir, hook)) || isBrokenLink(path.join(dir, hook));
}

function hooksDir(cwd: string, hooksPath: string | undefined): string | undefined {
  if (hooksPath === undefined) {
    const common = commonGitDir(cwd);
    return common === undefined ? undefined : path.join(common, 'hooks');
  }
  if (hooksPath.startsWith('~/')) return path.join(process.env.HOME ?? homedir(), hooksPath.slice(2));
  if (hooksPath.startsWith('~') || hooksPath.includes('%(')) return undefined;
  return path.resolve(cwd, hooksPath); // git looks it up from the worktree's top level, which cwd is
}

/** A symlink whose target is missing: existsSync says no, git may still say something about it. */
function isBrokenLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The paths under a protected name (PROTECTED_NAMES but `.git`, at any depth) whose entry differs between the
 * worktree's index and the hook's copy `nextIndex`: added, changed or removed.
 */
async function protectedIndexChanges(cwd: string, nextIndex: string): Promise<string[]> {
  const entries = async (index?: string): Promise<Map<string, string>> => {
    const { stdout } = await execFileAsync('git', ['ls-files', '--stage', '-z'], { cwd, env: { ...gitEnv(), ...(index ? { GIT_INDEX_FILE: index } : {}) }, maxBuffer: 256 * 1024 * 1024 });
    const map = new Map<string, string>();
    for (const record of stdout.split('\0')) {
      const tab = record.indexOf('\t');
      if (tab > 0 && isProtected(record.slice(tab + 1))) map.set(record.slice(tab + 1), record.slice(0, tab));
    }
    return map;
  };
  const [current, next] = await Promise.all([entries(), entries(nextIndex)]);
  return [...new Set([...current.keys(), ...next.keys()])].filter((p) => current.get(p) !== next.get(p)).sort();
}

function isProtected(file: string): boolean {
  return file.split('/').some((segment) => segment !== '.git' && PROTECTED_NAMES.includes(segment));
}

/** Whether the index differs from HEAD. */
async function hasStaged(cwd: string): Promise<boolean> {
  return (await gitQuery(cwd, ['diff', '--cached', '--quiet'])) === undefined; // exit 1: there are staged changes
}

/**
 * `git hook run --ignore-missing <hook>` (git >= 2.36): runs the hook git would run, or nothing when there is none.
 * In its own process group, so a time-out or Ctrl-C also ends what the hook started (lint-staged runs linters):
 * SIGTERM to the group, then SIGKILL.
 */
async function runHook(cwd: string, hook: CommitHook, args: string[], opts: CommitOptions, scratch: string): Promise<CommitResult | undefined> {
  const lines: string[] = [];
  const argv = ['git', 'hook', 'run', '--ignore-missing', hook, ...(args.length > 0 ? ['--', ...args] : [])];
  const quarantine = opts.sandbox ? await openQuarantine(cwd, path.join(scratch, `${hook}-quarantine`)) : undefined;
  const env = { ...gitEnv({ hooks: true }), ...quarantine?.env };
  // The message file is in `scratch`: a commit-msg hook may rewrite it.
  const spawn = opts.sandbox && quarantine ? sandboxedSpawn(opts.sandbox, { cwd, argv, env, writable: [scratch], overlays: quarantine.overlays }) : { file: argv[0]!, args: argv.slice(1), cleanup: () => {} };
  const result = await runProcessGroup({
    file: spawn.file,
    args: spawn.args,
    cwd,
    env,
    ...(opts.hookTimeoutMs !== undefined ? { timeoutMs: opts.hookTimeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    killGraceMs: 3000,
    onStdoutLine: (line) => lines.push(line),
  }).finally(spawn.cleanup);
  const passed = result.started && result.exitCode === 0 && result.killReason === undefined;
  // A sandboxed hook cannot write .claude or .mcp.json in the worktree, but it can stage them (git update-index
  // with objects of its own): committed and merged, Claude Code would run their hooks and MCP servers as the user
  // in every later agent session (measured). Such a hook's index is never installed.
  const protectedPaths = passed && quarantine ? await protectedIndexChanges(cwd, quarantine.env.GIT_INDEX_FILE) : [];
  const succeeded = passed && protectedPaths.length === 0;
  if (quarantine) await (succeeded ? closeQuarantine(quarantine) : discardQuarantine(quarantine));
  if (result.spawnError) throw new Error(`git could not be started to run the ${hook} hook: ${result.spawnError.message}`);
  if (succeeded) return undefined;
  if (protectedPaths.length > 0) {
    const said = [lines.join('\n'), result.stderr].filter((t) => t.trim() !== '').join('\n').trim();
    const note = `(the ${hook} hook staged ${protectedPaths.join(', ')}, which no agent, check or hook may change; nothing it staged was kept)`;
    return { kind: 'hook_failed', hook, exitCode: 0, output: [said, note].filter(Boolean).join('\n'), stopped: { by: 'protected', paths: protectedPaths } };
  }
  const output = [lines.join('\n'), result.stderr].filter((t) => t.trim() !== '').join('\n').trim();
  if (/^(usage: git hook|git: 'hook' is not a git command)/m.test(output)) {
    throw new Error(`this git (${await gitVersion(cwd)}) cannot run hooks for the orchestrator's commits (git hook run needs git 2.36 or newer); upgrade git or set git.hooks: false`);
  }
  const stopped: Extract<CommitResult, { kind: 'hook_failed' }>['stopped'] =
    result.killReason === 'timeout'
      ? { by: 'timeout', afterS: (opts.hookTimeoutMs ?? 0) / 1000 }
      : result.killReason !== undefined || !result.started
        ? { by: 'interrupt' }
        : undefined;
  const note = stopped?.by === 'timeout' ? `(the ${hook} hook did not finish within ${stopped.afterS} s and was stopped)` : stopped ? '(interrupted)' : '';
  return {
    kind: 'hook_failed',
    hook,
    exitCode: stopped ? undefined : (result.exitCode ?? undefined),
    output: [output, note].filter(Boolean).join('\n'),
    ...(stopped ? { stopped } : {}),
  };
}

async function gitVersion(cwd: string): Promise<string> {
  return (await gitQuery(cwd, ['--version'])) ?? 'unknown version';
}

/**
 * `-c user.name=… -c user.email=…` for what the configuration in `cwd` lacks (so the user's own identity wins);
 * read once per repository while its configuration files are unchanged (repo-config.ts).
 */
export async function identityArgs(cwd: string): Promise<string[]> {
  return (await commitConfig(cwd)).identityArgs;
}
