import { execa } from 'execa';
import { simpleGit, type SimpleGit } from 'simple-git';

/**
 * Variables that would redirect git away from the directory we name (set, for example, when the orchestrator
 * is started from a git hook). Every git call runs without them so it acts on exactly the cwd it is given.
 */
const REDIRECTING_VARS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY'];

/**
 * Editors and pagers are never wanted: every commit and merge passes its message, and output is read, not
 * shown. Removing them also keeps simple-git's guard against injected editors quiet.
 */
const INTERACTIVE_VARS = ['EDITOR', 'VISUAL', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR', 'PAGER', 'GIT_PAGER'];

export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [...REDIRECTING_VARS, ...INTERACTIVE_VARS]) delete env[name];
  env.GIT_TERMINAL_PROMPT = '0';
  return env;
}

/** simple-git, for the commands whose output it parses for us (status). */
export function git(cwd: string): SimpleGit {
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

export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}: ${stderr.trim() || 'no message'}`);
  }
}

/**
 * `git <args>` in cwd; trimmed stdout. Exit codes matter (many git questions answer with them) and simple-git's
 * `raw` resolves on a non-zero exit with an empty stderr, so plain commands go through execa.
 */
export async function gitRaw(cwd: string, args: string[]): Promise<string> {
  const result = await execa('git', args, { cwd, env: gitEnv(), extendEnv: false, reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0) throw new GitCommandError(args, result.exitCode, String(result.stderr));
  return String(result.stdout).trim();
}

/** Like gitRaw, but stdout exactly as git wrote it: for file contents and porcelain output, where spaces matter. */
export async function gitText(cwd: string, args: string[]): Promise<string> {
  const result = await execa('git', args, { cwd, env: gitEnv(), extendEnv: false, reject: false, stdin: 'ignore', stripFinalNewline: false });
  if (result.exitCode !== 0) throw new GitCommandError(args, result.exitCode, String(result.stderr));
  return String(result.stdout);
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

/** Paths with uncommitted changes (staged, unstaged, untracked and not ignored). */
export async function changedPaths(cwd: string): Promise<string[]> {
  const status = await git(cwd).status(['--untracked-files=normal']);
  return status.files.map((f) => f.path);
}
