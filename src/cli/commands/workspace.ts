import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { hasErrors } from '../../diagnostics.js';
import { inspectRepo, type RepoInfo } from '../../git/repo.js';
import { runPaths } from '../../run/context.js';
import { loadRunState, type RunState } from '../../state/run-state.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../main.js';
import { fail, printDiagnostics } from '../print.js';

/** The repository, its configuration and the orchestrator's places in it: what status and clean look at. */
export interface Workspace {
  repo: RepoInfo;
  config: Config;
  stateDir: string;
  stateFile: string;
  lockFile: string;
  tasksMd: string;
  worktreeDir: string;
  mergeWorktree: string;
}

export type Opened = { ok: true; workspace: Workspace } | { ok: false; code: number };

/** Finds the repository and loads its configuration; every problem is printed here, with the exit code returned. */
export async function openWorkspace(opts: { cwd: string; config?: string }, io: Io): Promise<Opened> {
  const dir = path.resolve(io.cwd, opts.cwd);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    io.stderr(fail(`--cwd ${opts.cwd}: no such directory`, 'name the folder of the repository to look at'));
    return { ok: false, code: EXIT.usage };
  }
  const inspected = await inspectRepo(dir);
  if (!inspected.repo) {
    io.stderr(fail(`${dir} is not a git repository with commits`, 'run it inside the repository the orchestrator ran in, or pass --cwd <repo>'));
    return { ok: false, code: EXIT.environment };
  }
  const repo = inspected.repo;
  const loaded = await loadConfig({ repoRoot: repo.root, ...(opts.config ? { explicitPath: opts.config } : {}), env: io.env, cwd: io.cwd });
  printDiagnostics(loaded.diagnostics, io.stderr);
  // A broken config could point at the wrong state or worktree folder: better to stop than to act on a guess.
  if (hasErrors(loaded.diagnostics)) return { ok: false, code: EXIT.usage };
  // runPaths is the one definition of these places; the run id only names a log folder, unused here.
  const paths = runPaths(repo.root, loaded.config, 'none', io.env);
  return {
    ok: true,
    workspace: {
      repo,
      config: loaded.config,
      stateDir: paths.stateDir,
      stateFile: paths.stateFile,
      lockFile: paths.lockFile,
      tasksMd: paths.tasksMd,
      worktreeDir: paths.worktreeDir,
      mergeWorktree: paths.mergeWorktree,
    },
  };
}

export type StateRead = { ok: true; state: RunState | undefined } | { ok: false; code: number };

/** The last run's state; a corrupt file is reported naming it (exit 2), a missing one is simply no run. */
export async function readState(ws: Workspace, io: Io): Promise<StateRead> {
  const loaded = await loadRunState(ws.stateFile);
  switch (loaded.kind) {
    case 'none':
      return { ok: true, state: undefined };
    case 'ok':
      return { ok: true, state: loaded.state };
    case 'corrupt':
      printDiagnostics(
        [
          {
            severity: 'error',
            code: 'corrupt-state',
            file: relPath(ws.repo.root, ws.stateFile),
            message: `the run state file is unreadable: ${loaded.problem}`,
            hint: 'move it aside to start afresh (branches and worktrees from that run are kept)',
          },
        ],
        io.stderr,
      );
      return { ok: false, code: EXIT.usage };
    default: {
      const never: never = loaded;
      return never;
    }
  }
}

/** The branch the run merges into: the run's own record first, then the configuration, then what is checked out. */
export function targetBranch(ws: Workspace, state: RunState | undefined): string | undefined {
  return state?.targetBranch ?? ws.config.git.target_branch ?? ws.repo.currentBranch;
}

/** Forward slashes, relative to the repository root, as every path shown to the user. */
export function relPath(root: string, p: string): string {
  return path.relative(root, p).split(path.sep).join('/') || '.';
}

/**
 * A path as shown to the user: relative to the repository root (forward slashes) when inside it, absolute when
 * outside (the worktrees and logs are by default: `../../home/me/.cache/…` would help nobody).
 */
export function shownPath(root: string, p: string): string {
  const rel = path.relative(root, p);
  const outside = rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
  return outside ? path.resolve(p) : rel.split(path.sep).join('/') || '.';
}
