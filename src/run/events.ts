import type { MilestoneId } from '../milestones/types.js';
import type { Attention } from '../report/attention.js';
import type { TaskStatus } from '../scheduler/types.js';
import type { RunStatus, TaskPhase, TaskUsage } from '../state/run-state.js';

/**
 * What a run tells the outside while it goes: the live view renders these, `--json` prints them one per line
 * (NDJSON). Every event has `type` and `at` (ISO time); fields are only ever added, never renamed.
 */
export type RunEvent =
  | { type: 'run_started'; at: string; runId: string; resumed: boolean; tasks: MilestoneId[]; maxParallel: number; targetBranch: string }
  | { type: 'task_started'; at: string; id: MilestoneId; stage: number; title: string }
  | { type: 'task_phase'; at: string; id: MilestoneId; phase: TaskPhase; round?: number }
  | { type: 'agent_progress'; at: string; id: MilestoneId; purpose: string; turns: number; lastTool?: string; costUsd?: number; outputTokens?: number }
  | { type: 'task_cost'; at: string; id: MilestoneId; costUsd: number; usage: TaskUsage; turns: number }
  | { type: 'task_finished'; at: string; id: MilestoneId; status: TaskStatus; reason?: string; costUsd: number; usage: TaskUsage; turns: number; durationMs: number; attention?: Attention }
  | { type: 'stage_merged'; at: string; stage: number; sha: string; branch: string; merged: MilestoneId[] }
  | { type: 'resource_wait'; at: string; id: MilestoneId; reasons: string[] }
  | { type: 'paused'; at: string; until: string; reason: string }
  | { type: 'resumed'; at: string }
  | { type: 'log'; at: string; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'run_finished'; at: string; runId: string; status: RunStatus; costUsd: number; usage: TaskUsage; message?: string };

export type EventSink = (event: RunEvent) => void;

/** Distributes the union over its members, so each event can be built without its `at`. */
type WithoutAt<T> = T extends unknown ? Omit<T, 'at'> : never;

/** `event` with its time, from `clock` (default the system's; epoch ms). */
export function stamp(event: WithoutAt<RunEvent>, clock: { now(): number } = { now: () => Date.now() }): RunEvent {
  return { ...event, at: new Date(clock.now()).toISOString() } as RunEvent;
}
