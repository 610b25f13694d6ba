import path from 'node:path';
import type { AgentAdapter } from '../agents/types.js';
import { defaultLogDir, defaultWorktreeDir } from '../config/data-dir.js';
import type { Config } from '../config/schema.js';
import type { RepoInfo } from '../git/repo.js';
import type { Milestone, MilestoneId } from '../milestones/types.js';
import type { Plan } from '../plan/types.js';
import type { CommandSandbox } from '../sandbox/plan.js';
import type { Logger } from '../report/logger.js';
import type { JournalWriter } from '../state/journal.js';
import type { RunState } from '../state/run-state.js';
import type { RunEvent } from './events.js';
import type { PauseController } from './limits.js';
import type { RunRecorder } from './recorder.js';

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

export interface RunContext {
  repo: RepoInfo;
  config: Config;
  paths: RunPaths;
  milestones: ReadonlyMap<MilestoneId, Milestone>;
  plan: Plan;
  /** The run state as it is now (the recorder's, frozen): read it again after recording something. */
  readonly state: RunState;
  /** The one owner of the run state: every change is an event recorded here (run/recorder.ts). */
  recorder: RunRecorder;
  adapter: AgentAdapter;
  /** Checks and commit hooks run inside it (agent.sandbox on, with bubblewrap); absent: as the user. */
  commandSandbox?: CommandSandbox;
  logger: Logger;
  templates: { task: string; review: string; conflict: string };
  /** True on --resume: existing task branches and worktrees are this run's own. */
  resuming: boolean;
  /** The run's cancellation (Ctrl-C): passed to every agent and command. */
  signal: AbortSignal;
  /** The run-wide pause for usage and rate limits. */
  pauses: PauseController;
  /** The run journal: every step with its outcome, durable before the next step starts (see state/journal.ts). */
  journal: JournalWriter;
}

export function branchFor(config: Config, id: MilestoneId): string {
  return `${config.worktrees.branch_prefix}${id}`;
}

export function integrationBranchFor(config: Config): string {
  return `${config.worktrees.branch_prefix}integration`;
}

export function rel(repoRoot: string, p: string): string {
  return path.relative(repoRoot, p).split(path.sep).join('/');
}
