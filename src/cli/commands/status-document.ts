import path from 'node:path';
import { hostname } from 'node:os';
import type { TaskStatus } from '../../scheduler/types.js';
import { readLock } from '../../state/lock.js';
import { isPidAlive } from '../../util/process.js';
import { runTotals, type RunState, type TaskRecord, type TaskUsage } from '../../state/run-state.js';
import { attentionOf, needsAction, type Attention } from '../../report/attention.js';
import { takeResultCommand } from '../../git/merge.js';
import { integrationBranchFor } from '../../run/context.js';
import { tasksMdOwnFile } from '../../report/tasks-md-own-file.js';
import type { WorktreeInfo } from './worktrees.js';
import { relPath, shownPath, type Workspace } from './workspace.js';

/**
 * `orchestrate status --json`: one document, every key always present (null or [] when there is nothing to
 * say), so scripts can rely on the shape. `schemaVersion` changes only when a key is removed or changes meaning.
 */
export interface StatusDocument {
  schemaVersion: 1;
  /** Absolute path of the repository root. */
  repo: string;
  /** Relative to the repository root. */
  stateFile: string;
  /** The last run, or null when no run has been recorded. */
  run: RunView | null;
  /** Who holds the run lock now, or null when nobody does. */
  lock: LockView | null;
  /** Set while a run waits out (or stopped on) a usage limit. */
  pause: { until: string; reason: string } | null;
  /** The branch `merged` is measured against (the run's target, else the configured or checked-out branch). */
  target: string | null;
  stages: StageView[];
  tasks: TaskView[];
  totals: TotalsView | null;
  /** Relative to the repository root when inside it, else absolute (the default: outside the repository). */
  worktreeDir: string;
  worktrees: WorktreeView[];
}

export interface RunView {
  id: string;
  status: RunState['status'];
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  targetBranch: string;
  targetStartSha: string;
  /** Where the merged result went when the target could not be moved safely. */
  integrationBranch: string | null;
  /** The command that takes that result onto the target, for the working tree as it is now. */
  takeCommand: string | null;
  message: string | null;
  logDir: string;
}

export interface LockView {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  /** Whether that process still runs; null when it is on another host and cannot be checked. */
  alive: boolean | null;
}

export interface StageView {
  stage: number;
  status: string;
  note: string | null;
  mergedSha: string | null;
}

export interface TokensView {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

export interface TaskView {
  id: string;
  stage: number;
  title: string;
  status: TaskStatus;
  reason: string | null;
  /** What a running task is doing; null otherwise. */
  phase: string | null;
  branch: string;
  worktree: string;
  commit: string | null;
  shortCommit: string | null;
  commits: number | null;
  merged: boolean;
  attempts: number;
  turns: number;
  costUsd: number;
  tokens: TokensView;
  /** Shell actions the agents' sandbox refused (writes outside the worktree, blocked hosts). */
  sandboxRefusals: number;
  /** Quality-gate (checks and review) rounds; null when the run recorded none. */
  reviewRounds: number | null;
  lastVerdict: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number;
  /**
   * For a task that needs attention or failed: each round's verdict and findings, the failed checks with their
   * output, the transcript and the command that continues the agent's session; null otherwise.
   */
  attention: Attention | null;
  /** When the user accepted the task by hand (`orchestrate accept`); null otherwise. */
  acceptedAt: string | null;
}

export interface TotalsView {
  tasks: number;
  byStatus: Record<TaskStatus, number>;
  costUsd: number;
  tokens: TokensView;
  /** The tasks' time, ms (set-up, checks and reviews included). */
  durationMs: number;
  /** The agent calls' time only, ms: "agent time". */
  agentMs: number;
}

/** A worktree as `status --json` shows it: what clean knows, without the machine-specific absolute path. */
export type WorktreeView = Omit<WorktreeInfo, 'absPath'>;

export async function buildStatusDocument(ws: Workspace, state: RunState | undefined, target: string | undefined, worktrees: readonly WorktreeInfo[]): Promise<StatusDocument> {
  return {
    schemaVersion: 1,
    repo: ws.repo.root,
    stateFile: relPath(ws.repo.root, ws.stateFile),
    run: state ? { ...runView(state, ws), takeCommand: await takeCommandFor(ws, state) } : null,
    lock: await lockView(ws.lockFile),
    pause: state?.pause ? { until: state.pause.until, reason: state.pause.reason } : null,
    target: target ?? null,
    stages: state ? state.stages.map((s) => ({ stage: s.stage, status: s.status, note: s.note ?? null, mergedSha: s.mergedSha ?? null })) : [],
    tasks: state ? Object.values(state.tasks).sort((a, b) => a.id.localeCompare(b.id)).map((t) => taskView(t, ws.repo.root, ws.worktreeDir)) : [],
    totals: state ? totalsView(state) : null,
    worktreeDir: shownPath(ws.repo.root, ws.worktreeDir),
    worktrees: worktrees.map(({ absPath: _abs, ...view }) => view),
  };
}

function runView(s: RunState, ws: Workspace): Omit<RunView, 'takeCommand'> {
  return {
    id: s.runId,
    status: s.status,
    startedAt: s.startedAt,
    updatedAt: s.updatedAt,
    finishedAt: s.finishedAt ?? null,
    targetBranch: s.targetBranch,
    targetStartSha: s.targetStartSha,
    // Derived from the configuration, never the file's name (a tampered one would point the hint at a user branch).
    integrationBranch: s.integrationBranch ? integrationBranchFor(ws.config) : null,
    message: s.message ?? null,
    logDir: s.logDir,
  };
}

async function takeCommandFor(ws: Workspace, s: RunState): Promise<string | null> {
  if (!s.integrationBranch) return null;
  const ownFiles = [tasksMdOwnFile(ws.tasksMd, () => s, ws.repo.root)];
  return takeResultCommand({ repoRoot: ws.repo.root, target: s.targetBranch, integrationBranch: integrationBranchFor(ws.config), ownFiles }).catch(() => null);
}

async function lockView(file: string): Promise<LockView | null> {
  const holder = await readLock(file);
  if (!holder) return null;
  return { ...holder, alive: holder.host === hostname() ? isPidAlive(holder.pid) : null };
}

function taskView(t: TaskRecord, root: string, worktreeDir: string): TaskView {
  const rounds = Array.isArray(t.rounds) ? t.rounds : undefined;
  return {
    id: t.id,
    stage: t.stage,
    title: t.title,
    status: t.status,
    reason: t.reason ?? null,
    phase: t.status === 'running' ? (t.phase ?? null) : null,
    branch: t.branch,
    worktree: t.worktree,
    commit: t.headSha ?? null,
    shortCommit: t.headSha ? t.headSha.slice(0, 7) : null,
    commits: t.commits ?? null,
    merged: t.merged === true,
    attempts: t.attempts,
    turns: t.turns,
    costUsd: t.costUsd,
    tokens: tokensView(t.usage),
    sandboxRefusals: t.sandboxRefusals ?? 0,
    reviewRounds: rounds ? rounds.length : null,
    lastVerdict: rounds?.at(-1)?.verdict ?? null,
    startedAt: t.startedAt ?? null,
    finishedAt: t.finishedAt ?? null,
    durationMs: t.durationMs,
    attention: needsAction(t) ? attentionOf(t, root, path.join(worktreeDir, t.id)) : null,
    acceptedAt: t.accepted?.at ?? null,
  };
}

function totalsView(s: RunState): TotalsView {
  const totals = runTotals(s);
  const byStatus: Record<TaskStatus, number> = { pending: 0, blocked: 0, running: 0, done: 0, failed: 0, needs_attention: 0, skipped: 0 };
  const tasks = Object.values(s.tasks);
  for (const t of tasks) byStatus[t.status] += 1;
  return { tasks: tasks.length, byStatus, costUsd: totals.costUsd, tokens: tokensView(totals.usage), durationMs: totals.durationMs, agentMs: totals.agentMs };
}

function tokensView(u: TaskUsage): TokensView {
  return { input: u.inputTokens, output: u.outputTokens, cacheRead: u.cacheReadInputTokens, cacheCreation: u.cacheCreationInputTokens };
}
