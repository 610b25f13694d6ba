import path from 'node:path';
import { defaultLogDir, defaultWorktreeDir } from '../config/data-dir.js';
import type { Config } from '../config/schema.js';
import type { MilestoneId } from '../milestones/types.js';
import type { RunEvent } from './events.js';

/** An NDJSON/live-view event before it is stamped with its time. */
export type WithoutAtEvent = RunEvent extends infer T ? (T extends unknown ? Omit<T, 'at'> : never) : never;

export interface RunPaths {
  stateDir: string;
  stateFile: string;
  lockFile: string;
  worktreeDir: string;
  mergeWorktree: string;
  logDir: string;
  /** This run's transcripts. */
  runLogDir: string;
  tasksMd: string;
  metricsFile: string;
}

/**
 * Every place a run reads or writes, absolute. `worktrees.dir` and `logging.log_dir` are relative to the repository
 * root (or absolute); unset, they are outside the repository (config/data-dir.ts, which reads XDG_CACHE_HOME from
 * `env`). State stays in the repository (`state_dir`).
 */
export function runPaths(repoRoot: string, config: Config, runId: string, env: NodeJS.ProcessEnv = process.env): RunPaths {
  const stateDir = path.resolve(repoRoot, config.state_dir);
  const worktreeDir = config.worktrees.dir === null ? defaultWorktreeDir(repoRoot, env) : path.resolve(repoRoot, config.worktrees.dir);
  const logDir = config.logging.log_dir === null ? defaultLogDir(repoRoot, env) : path.resolve(repoRoot, config.logging.log_dir);
  return {
    stateDir,
    stateFile: path.join(stateDir, 'run-state.json'),
    lockFile: path.join(stateDir, 'lock'),
    worktreeDir,
    mergeWorktree: path.join(worktreeDir, '_merge'),
    logDir,
    runLogDir: path.join(logDir, `run-${runId}`),
    tasksMd: path.join(repoRoot, 'TASKS.md'),
    metricsFile: path.join(logDir, 'metrics.json'),
  };
}

/** The prompt templates of a run, as text (the configured file or the shipped one). */
export interface Templates {
  task: string;
  review: string;
  conflict: string;
}

export function branchFor(config: Pick<Config, 'worktrees'>, id: MilestoneId): string {
  return `${config.worktrees.branch_prefix}${id}`;
}

export function integrationBranchFor(config: Pick<Config, 'worktrees'>): string {
  return `${config.worktrees.branch_prefix}integration`;
}

export function rel(repoRoot: string, p: string): string {
  return path.relative(repoRoot, p).split(path.sep).join('/');
}
