import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * Where the orchestrator keeps a repository's task worktrees and logs by default: outside the repository's working
 * tree, so the user's test runners, linters, type checker and editor never see the copies of the code in the
 * worktrees. `${XDG_CACHE_HOME:-~/.cache}/milestone-orchestrator/<repo folder name>-<8 hex of sha256(repo root)>`,
 * e.g. `~/.cache/milestone-orchestrator/wordcount-1c9e0b7a`: one folder per repository (two clones named alike
 * do not share it), found again from the repository's path alone. A relative XDG_CACHE_HOME is ignored, as the XDG
 * base directory spec says. Pure apart from the home directory lookup.
 */
export function orchestratorDataDir(repoRoot: string, env: NodeJS.ProcessEnv, home: string = homedir()): string {
  const xdg = env.XDG_CACHE_HOME;
  const cacheHome = xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.cache');
  const root = path.resolve(repoRoot);
  const hash = createHash('sha256').update(root).digest('hex').slice(0, 8);
  const name = path.basename(root).replace(/[^A-Za-z0-9._-]/g, '_') || 'repo';
  return path.join(cacheHome, 'milestone-orchestrator', `${name}-${hash}`);
}

/** Default `worktrees.dir`: `<data dir>/worktrees`. */
export function defaultWorktreeDir(repoRoot: string, env: NodeJS.ProcessEnv): string {
  return path.join(orchestratorDataDir(repoRoot, env), 'worktrees');
}

/** Default `logging.log_dir`: `<data dir>/logs`. */
export function defaultLogDir(repoRoot: string, env: NodeJS.ProcessEnv): string {
  return path.join(orchestratorDataDir(repoRoot, env), 'logs');
}
