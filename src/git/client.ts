import { execa } from 'execa';
import type { SimpleGit } from 'simple-git';

/**
 * Variables that would redirect git away from the directory we name (set, for example, when the orchestrator
 * is started from a git hook). Every git call runs without them so it acts on exactly the cwd it is given.
 */
const REDIRECTING_VARS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY'];

/**
 * Editors and pagers are never wanted: every commit and merge passes its message, and output is read, not
 * shown.
 */
const INTERACTIVE_VARS = ['EDITOR', 'VISUAL', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR', 'PAGER', 'GIT_PAGER'];

let hooksOutsideSandbox = true;

/**
 * With the agents' sandbox on, the git commands the orchestrator runs outside it run no hooks: a hooks path such as
 * husky's (`core.hooksPath=.husky/_`) is relative, so git finds it inside the worktree the agent writes, and git runs
 * post-commit, post-merge, post-checkout and reference-transaction hooks of its own accord. The hooks of an agent's
 * commit run inside the sandbox instead (commit.ts). Called once per run, before any git command of the run.
 */
export function runGitWithoutHooks(): void {
  hooksOutsideSandbox = false;
}

/** The environment of every git command; `hooks: true` for `git hook run` itself (run inside the sandbox). */
export function gitEnv(opts: { hooks?: boolean } = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [...REDIRECTING_VARS, ...INTERACTIVE_VARS]) delete env[name];
  env.GIT_TERMINAL_PROMPT = '0';
  if (!hooksOutsideSandbox && opts.hooks !== true) noHooks(env);
  return env;
}

/** A hooks path where no hook can exist (inside /dev/null); readers of core.hooksPath skip it (repo-config.ts). */
export const NO_HOOKS_PATH = '/dev/null/milestone-orchestrator-runs-no-hooks-here';

/**
 * Through GIT_CONFIG_COUNT (git >= 2.31), after any the user set (command-line config outranks every file, a nested
 * repository's own included, and git passes it on to the git it starts in submodules):
 * - `core.hooksPath` set to {@link NO_HOOKS_PATH};
 * - `diff.ignoreSubmodules=all` and `core.fsmonitor=false`: an agent (or a check) can `git init` a repository inside
 *   its worktree and give it a `core.fsmonitor` command or a clean filter in its own `.git/config`; once committed
 *   as a gitlink, git status, diff and add in the worktree ran `git status` in it, and so that command, as the user
 *   (measured with git 2.39: `orchestrate status` and `git add -A` ran both). Agents cannot commit inside a
 *   submodule (the repository's git folder is read-only to them), so nothing of theirs is lost by not looking in.
 *   `git add` looks into gitlinks whatever diff.ignoreSubmodules says (a nested repository's clean filter ran there):
 *   commits refuse a worktree holding such a repository before any `add` (nested.ts).
 */
function noHooks(env: NodeJS.ProcessEnv): void {
  let n = Number(env.GIT_CONFIG_COUNT ?? 0) || 0;
  for (const [key, value] of [
    ['core.hooksPath', NO_HOOKS_PATH],
    ['core.fsmonitor', 'false'],
    ['diff.ignoreSubmodules', 'all'],
  ] as const) {
    env[`GIT_CONFIG_KEY_${n}`] = key;
    env[`GIT_CONFIG_VALUE_${n}`] = value;
    n++;
  }
  env.GIT_CONFIG_COUNT = String(n);
}

export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}: ${stderr.trim() || 'no message'}`);
  }
}

/** simple-git, for the commands whose output it parses for us (status); loaded on first use (validation never needs it). */
async function git(cwd: string): Promise<SimpleGit> {
  const { simpleGit } = await import('simple-git');
  return simpleGit({
    baseDir: cwd,
    trimmed: false,
    // The environment is the user's own (their ssh command, askpass, config paths): git would honour it from
    // their shell, so it is honoured here. Arguments are always ours, never built from milestone text.
    unsafe: {
      allowUnsafeSshCommand: true,
      allowUnsafeAskPass: true,
      allowUnsafeConfigPaths: true,
      allowUnsafeConfigEnvCount: true,
      allowUnsafeGitProxy: true,
      allowUnsafeDiffExternal: true,
      allowUnsafeTemplateDir: true,
    },
  }).env(gitEnv());
}

/**
 * Runs `git <args>` in cwd (stdin closed, the environment of gitEnv) through execa, the project's process
 * library, and collects its output; never rejects. exitCode is undefined when git could not be started or was
 * killed by a signal; stderr then says why. (Spawning through node:child_process directly saved about 5 % of the
 * orchestrator's own CPU in the cpu bench; the project prefers the well-kept library, see BENCHMARKS.md.)
 */
async function runGit(cwd: string, args: readonly string[]): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const result = await execa('git', args, { cwd, env: gitEnv(), extendEnv: false, reject: false, stdin: 'ignore', stripFinalNewline: false });
  const stderr = String(result.stderr ?? '');
  const why = result.failed && result.exitCode === undefined ? (result.signal ? `killed by ${result.signal}` : (result.shortMessage ?? '')) : '';
  return { exitCode: result.exitCode, stdout: String(result.stdout ?? ''), stderr: stderr || why };
}

/** `git <args>` in cwd; trimmed stdout. Throws GitCommandError on a non-zero exit (many git questions answer with it). */
export async function gitRaw(cwd: string, args: string[]): Promise<string> {
  const result = await runGit(cwd, args);
  if (result.exitCode !== 0) throw new GitCommandError(args, result.exitCode, result.stderr);
  return result.stdout.trim();
}

/** Like gitRaw, but stdout exactly as git wrote it: for file contents and porcelain output, where spaces matter. */
export async function gitText(cwd: string, args: string[]): Promise<string> {
  const result = await runGit(cwd, args);
  if (result.exitCode !== 0) throw new GitCommandError(args, result.exitCode, result.stderr);
  return result.stdout;
}

/** Like gitRaw, but a non-zero exit gives undefined: for questions whose "no" is an exit code. */
export async function gitQuery(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    return await gitRaw(cwd, args);
  } catch (err) {
    if (err instanceof GitCommandError) return undefined;
    throw err;
  }
}

/** Paths with uncommitted changes (staged, unstaged, untracked and not ignored); a rename gives its new path. */
export async function changedPaths(cwd: string): Promise<string[]> {
  const status = await (await git(cwd)).status(['--untracked-files=normal']);
  return status.files.map((f) => f.path);
}
