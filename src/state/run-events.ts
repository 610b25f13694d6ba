import type { MilestoneId } from '../milestones/types.js';
import type { ReviewFinding } from '../review/verdict.js';
import type { TaskStatus } from '../scheduler/types.js';
import type { CheckRecord, RunStatus, TaskPhase, TaskUsage } from './run-state.js';

/**
 * What happened in a run, as facts: the only way the run state changes once a run is under way. `reduceRunState`
 * (state/reduce-run-state.ts) applies one to the state; the recorder (run/recorder.ts) is the only caller, and turns
 * each into the state file, TASKS.md and the NDJSON/live-view events. Times are ISO strings; durations ms; cost USD.
 */
export type RunStateEvent = RunLevelEvent | ScheduleEvent | TaskEvent | StageEvent;

export type RunLevelEvent =
  /** The run (new or resumed) is under way. `tasks`/`maxParallel`/`resumed` are for the NDJSON `run_started` only. */
  | { type: 'run-started'; resumed: boolean; tasks: MilestoneId[]; maxParallel: number }
  | { type: 'run-finished'; status: RunStatus; at: string; message?: string }
  /** A usage or rate limit paused the run until `until`; a later, longer pause replaces it. */
  | { type: 'paused'; until: string; reason: string }
  | { type: 'pause-cleared' }
  /** The resource gate holds `task` back; `at` is when this wait began (kept while the same wait goes on). */
  | { type: 'resource-wait'; task: MilestoneId; reasons: string[]; at: string }
  | { type: 'resource-wait-cleared' };

/**
 * The scheduler's decision after one of its transitions (scheduler/state.ts `step`, the one place task status is
 * decided): every task's status and reason, and the stages it has started.
 */
export interface ScheduleEvent {
  type: 'schedule-changed';
  tasks: readonly { id: MilestoneId; status: TaskStatus; reason?: string }[];
  /** Stages the scheduler has reached (running, settling or settled). */
  startedStages: readonly number[];
}

/** Something that happened to one task's attempt. */
export type TaskEvent = { task: MilestoneId } & TaskFact;

export type TaskFact =
  /** An attempt began: `at` is the task's start unless an earlier attempt already set it. */
  | { type: 'attempt-started'; at: string }
  /** Where the running task is; `phase` absent: nowhere (between phases, or ended). */
  | { type: 'phase-changed'; phase?: TaskPhase }
  | { type: 'worktree-ready'; baseSha: string; worktree: string }
  /** The worktree was reset to its base: the worker's session is gone with the work. */
  | { type: 'worktree-reset' }
  /** The feedback `orchestrate retry` left has been given to a worker call. */
  | { type: 'retry-feedback-given' }
  /** Agent process number `attempt` (1-based, across the task's calls) starts, writing `transcript` (repo-relative). */
  | { type: 'agent-call-started'; attempt: number; transcript: string }
  /** Its pid (= process group) and kernel start time, for stopping it after a crash. */
  | { type: 'agent-spawned'; pid: number; start?: string }
  | { type: 'agent-exited' }
  /** The worker's session id, as soon as the agent reports it. */
  | { type: 'worker-session'; sessionId: string }
  /** An agent call ended (or was recovered from its transcript): booked to the task's totals exactly once. */
  /** `durationMs`: the agent process's wall time, added to the task's `agentMs`. */
  | { type: 'agent-call-finished'; costUsd: number; usage: TaskUsage; turns: number; durationMs?: number; sandboxRefusals?: number; workerSessionId?: string }
  | { type: 'committed'; headSha?: string; commits: number }
  /** The quality gate starts over its rounds (rebuilt from the journal as they replay). */
  | { type: 'rounds-reset' }
  | { type: 'round-started'; round: number; at: string }
  | { type: 'checks-recorded'; round: number; checks: CheckRecord[] }
  /** The review of `round` and what it cost; `verdict` absent when it gave none (its cost still counts). */
  | { type: 'review-recorded'; round: number; reviewCostUsd: number; verdict?: { verdict: 'approve' | 'request_changes'; summary: string; findings: ReviewFinding[] } }
  /** The attempt ended (any outcome, an interruption included): `durationMs` is added to the task's time. */
  | { type: 'attempt-ended'; durationMs: number; at: string }
  /** An agent resolved a merge conflict on this task's branch. */
  | { type: 'conflict-resolved' };

export type StageEvent =
  | { type: 'stage-merging'; stage: number }
  | { type: 'stage-merge-failed'; stage: number; note: string }
  /** The stage's done branches are merged into `mergedSha` (not yet on the target). */
  | { type: 'stage-merged'; stage: number; mergedSha: string; merged: MilestoneId[] }
  /**
   * The merged result is on `branch`: the target, or the integration branch (`integrationBranch` set) when the
   * target could not be moved safely.
   */
  | { type: 'target-advanced'; stage: number; sha: string; branch: string; merged: MilestoneId[]; integrationBranch?: string }
  /** The stage is over: its merged result is the next stage's base. */
  | { type: 'stage-settled'; stage: number; status: 'merged' | 'failed' };
