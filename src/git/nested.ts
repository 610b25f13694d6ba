import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { gitText } from './client.js';
import { commonGitDir } from './layout.js';

/**
 * A git repository inside a worktree whose git directory the agent could write: `path` (relative to the worktree
 * top, `/`-separated, no trailing slash) holds a `.git` directory, or a `.git` file naming a git directory outside
 * the repository's common git directory.
 *
 * Why it matters: `git add -A` adds such a folder as a gitlink, and every later `git add` looks inside a gitlink
 * (whatever diff.ignoreSubmodules says) by running git there, which reads that repository's own `.git/config`: its
 * clean filter (and fsmonitor, textconv…) then ran as the user, outside the sandbox (measured with git 2.39).
 * A legitimate submodule's git directory lives under the main repository's git directory (`.git/modules`, or the
 * linked worktree's `modules/`), which agents cannot write, and its `.git` is a file pointing there.
 */
export interface NestedRepository {
  path: string;
  /** `directory`: `<path>/.git` is a folder; `elsewhere`: a `.git` file naming a git directory outside the repository's. */
  gitDir: 'directory' | 'elsewhere';
}

/**
 * The candidates in `git ls-files --stage --others --exclude-standard -z` output (one git process for both): index
 * entries with mode 160000 (gitlinks) and untracked entries git lists as a folder (`sub/`: without `--directory`,
 * git lists an untracked folder that way only when it holds a `.git`). Paths relative to the worktree top.
 */
export function nestedRepositoryCandidates(lsFiles: string): string[] {
  const found = new Set<string>();
  for (const record of lsFiles.split('\0')) {
    if (record === '') continue;
    const tab = record.indexOf('\t');
    if (tab > 0 && /^\d{6} /.test(record)) {
      if (record.startsWith('160000 ')) found.add(record.slice(tab + 1));
    } else if (record.endsWith('/')) {
      found.add(record.slice(0, -1));
    }
  }
  return [...found].sort();
}

/**
 * The nested repositories in the worktree whose top level is `worktree` (absolute): see {@link NestedRepository}.
 * One git process, then one or two file reads per gitlink or nested folder (usually none). Ignored folders are not
 * looked at (`git add -A` does not add them). Throws GitCommandError when git cannot list the worktree.
 */
export async function nestedRepositories(worktree: string): Promise<NestedRepository[]> {
  const candidates = nestedRepositoryCandidates(await gitText(worktree, ['ls-files', '--stage', '--others', '--exclude-standard', '-z']));
  if (candidates.length === 0) return [];
  const common = commonGitDir(worktree);
  const own = common === undefined ? undefined : realOrSelf(common);
  const nested: NestedRepository[] = [];
  for (const candidate of candidates) {
    const kind = classify(path.join(worktree, candidate), own);
    if (kind) nested.push({ path: candidate, gitDir: kind });
  }
  return nested;
}

/** What `<folder>/.git` is: undefined when missing (an uninitialised submodule) or a gitfile into `own`. */
function classify(folder: string, own: string | undefined): NestedRepository['gitDir'] | undefined {
  const dotGit = path.join(folder, '.git');
  let stat;
  try {
    stat = lstatSync(dotGit);
  } catch {
    return undefined;
  }
  if (stat.isDirectory()) return 'directory';
  // A symlink to a folder is as writable as the folder: git follows it.
  if (stat.isSymbolicLink()) return 'elsewhere';
  if (!stat.isFile()) return undefined;
  let target: string | undefined;
  try {
    target = /^gitdir: (.+?)\r?\n?$/.exec(readFileSync(dotGit, 'utf8'))?.[1];
  } catch {
    return 'elsewhere';
  }
  if (target === undefined) return undefined; // not a gitfile: git does not treat the folder as a repository
  const real = realOrSelf(path.resolve(folder, target));
  return own !== undefined && (real === own || real.startsWith(own + path.sep)) ? undefined : 'elsewhere';
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** What the agent (or the user) is told to do about them: which paths, and how to remove each. */
export function describeNestedRepositories(nested: readonly NestedRepository[]): string {
  const lines = nested.map((n) => `- ${n.path}: remove its git folder (\`rm -rf ${shellPath(`${n.path}/.git`)}\`, which keeps its files) or the whole folder (\`rm -rf ${shellPath(n.path)}\`)`);
  return `the worktree holds ${nested.length === 1 ? 'a git repository' : 'git repositories'} of its own, which the orchestrator does not commit (nothing was staged):\n${lines.join('\n')}`;
}

function shellPath(p: string): string {
  return /^[\w./@%+=:,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}
