import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MilestoneId } from '../milestones/types.js';
import type { ReviewFinding } from '../review/verdict.js';
import type { TaskStatus } from '../scheduler/types.js';
import { createRedactor, redactStrings } from '../agents/redact.js';
import { AtomicWriter } from './atomic.js';
import { parseRunState } from './state-schema.js';

export const STATE_VERSION = 1;
export const STATE_FILE = 'run-state.json';

/** Where a running task is; shown live and kept so a resume knows what was interrupted. */
export type TaskPhase = 'setup' | 'agent' | 'commit' | 'checks' | 'review' | 'merge';

export interface TaskUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

export interface CheckRecord {
  command: string;
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** The end of its output, kept for failures only. */
  outputTail?: string;
}

/** One pass of the quality gate: checks, then (when they pass) a review. */
export interface RoundRecord {
  round: number;
  at: string;
  checks: CheckRecord[];
  /** Absent when checks failed (no review then) or review is off. */
  verdict?: 'approve' | 'request_changes';
  summary?: string;
  findings: ReviewFinding[];
  /** Review cost of this round (the worker's remediation is counted in the task's total). */
  reviewCostUsd: number;
}

export interface TaskRecord {
  id: MilestoneId;
  stage: number;
  title: string;
  status: TaskStatus;
  phase?: TaskPhase;
  reason?: string;
  branch: string;
  /** Relative to the repository root. */
  worktree: string;
  baseSha?: string;
  headSha?: string;
  sessionId?: string;
  /** The running agent's pid (= its process group): after a crash, a resume stops it before starting again. */
  agentPid?: number;
  /**
   * The agent process's start time as the kernel counts it (`/proc/<pid>/stat` field 22, clock ticks since boot),
   * recorded at spawn: with its working directory it proves a live pid is still that agent (`run/orphans.ts`).
   */
  agentStart?: string;
  /** Agent invocations so far (first run, resumes, retries). */
  attempts: number;
  turns: number;
  costUsd: number;
  usage: TaskUsage;
  startedAt?: string;
  finishedAt?: string;
  /** Wall time of its attempts (set-up, agents, checks, reviews), ms. */
  durationMs: number;
  /** Wall time of its agent calls only (worker, reviews, conflict resolutions), ms: the run's "agent time". */
  agentMs?: number;
  /** Commits on the task branch beyond its base. */
  commits?: number;
  merged?: boolean;
  /** Set when merging this branch conflicted and an agent resolved it. */
  conflictResolved?: boolean;
  /** Relative to the repository root. */
  transcripts: string[];
  /** Shell actions the sandbox refused in this task's agent runs (absent: none). */
  sandboxRefusals?: number;
  /** Quality-gate rounds, in order. */
  rounds?: RoundRecord[];
  /** The milestone's estimate, for drawing the task in TASKS.md's chart before it starts. */
  estimateMinutes?: number;
  /** Set by `orchestrate accept`: the user fixed the task by hand and its checks passed then. */
  accepted?: { at: string; checks: CheckRecord[] };
  /**
   * Set by `orchestrate retry`: what the next worker call is told (the last round's findings and failed checks);
   * removed once that call has been made.
   */
  retryFeedback?: string;
}

export type StageStatus = 'pending' | 'running' | 'merging' | 'merged' | 'failed';

export interface StageRecord {
  stage: number;
  status: StageStatus;
  /** What this stage's task branches start from: the merged result of every earlier stage. */
  baseSha?: string;
  mergedSha?: string;
  note?: string;
}

export type RunStatus = 'running' | 'paused' | 'completed' | 'failed' | 'interrupted' | 'stopped';

export interface RunState {
  version: typeof STATE_VERSION;
  runId: string;
  status: RunStatus;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  targetBranch: string;
  targetStartSha: string;
  /** Set when the target branch could not be moved safely: the merged result lives here instead. */
  integrationBranch?: string;
  selected: MilestoneId[];
  stages: StageRecord[];
  tasks: Record<MilestoneId, TaskRecord>;
  pause?: { until: string; reason: string };
  /** Set while the resource gate holds a task back. */
  resourceWait?: { task: MilestoneId; reasons: string[]; since: string };
  /** Relative to the repository root. */
  logDir: string;
  message?: string;
}

export function stateFilePath(repoRoot: string, stateDir: string): string {
  return path.resolve(repoRoot, stateDir, STATE_FILE);
}

export type LoadStateResult =
  | { kind: 'none' }
  | { kind: 'ok'; state: RunState }
  | { kind: 'corrupt'; problem: string };

/**
 * Reads and validates the state file (its whole shape: `state-schema.ts`). Never throws for what is in the file
 * or for a file that cannot be read (a directory, no permission): those are `corrupt`, with the reason.
 */
export async function loadRunState(file: string): Promise<LoadStateResult> {
  if (!existsSync(file)) return { kind: 'none' };
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { kind: 'corrupt', problem: code === 'EISDIR' ? 'it is a directory, not a file' : `cannot read it (${(err as Error).message})` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    return { kind: 'corrupt', problem: `not valid JSON (${(err as Error).message})` };
  }
  const version = typeof parsed === 'object' && parsed !== null ? (parsed as { version?: unknown }).version : undefined;
  if (version !== STATE_VERSION) return { kind: 'corrupt', problem: `unsupported version ${JSON.stringify(version)} (expected ${STATE_VERSION})` };
  const checked = parseRunState(parsed);
  return checked.ok ? { kind: 'ok', state: checked.state } : { kind: 'corrupt', problem: checked.problem };
}

/** Persists every transition atomically, in order. */
export class RunStateStore {
  private readonly writer: AtomicWriter;
  constructor(readonly file: string) {
    this.writer = new AtomicWriter(file);
  }

  save(state: RunState): Promise<void> {
    state.updatedAt = new Date().toISOString();
    // Failure reasons, check output and findings quote what agents and commands printed: no secret is saved.
    return this.writer.write(`${JSON.stringify(redactStrings(state, createRedactor(process.env)), null, 2)}\n`);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}

export function emptyUsage(): TaskUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
}

/** Adds `from`'s token counts to `into` (tokens, as the CLI's result event reports them); returns `into`. */
export function addUsage(into: TaskUsage, from: TaskUsage): TaskUsage {
  into.inputTokens += from.inputTokens;
  into.outputTokens += from.outputTokens;
  into.cacheReadInputTokens += from.cacheReadInputTokens;
  into.cacheCreationInputTokens += from.cacheCreationInputTokens;
  return into;
}

/** The run's cost (USD) and tokens; `durationMs`: its tasks' time, `agentMs`: its agent calls' time (ms). */
export function runTotals(state: RunState): { costUsd: number; usage: TaskUsage; durationMs: number; agentMs: number } {
  const usage = emptyUsage();
  let costUsd = 0;
  let durationMs = 0;
  let agentMs = 0;
  for (const t of Object.values(state.tasks)) {
    costUsd += t.costUsd;
    durationMs += t.durationMs;
    agentMs += t.agentMs ?? 0;
    addUsage(usage, t.usage);
  }
  return { costUsd, usage, durationMs, agentMs };
}
