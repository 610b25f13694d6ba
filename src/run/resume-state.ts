import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { MilestoneId } from '../milestones/types.js';
import type { JournalView } from '../state/journal.js';
import type { RunState, TaskRecord } from '../state/run-state.js';
import { branchFor, integrationBranchFor, rel } from './context.js';

/** What deciding the resumed state needs: the run's selection, the branch naming, and where worktrees go. */
export interface ResumeInput {
  selected: readonly MilestoneId[];
  config: Pick<Config, 'worktrees'>;
  repoRoot: string;
  /** Absolute. */
  worktreeDir: string;
}

/**
 * The state a resumed run starts from, given the state file it read; pure, the input is not changed.
 *
 * - The state file is input: the branch and worktree written in it are only for display. Every record takes the
 *   ones the configuration and the task id give (and a recorded integration branch the configured name), so an
 *   edited file cannot point the run at a user's branch or at a folder outside the run's worktrees.
 * - Everything selected and not done runs again: tasks caught mid-flight by a crash or Ctrl-C, and failed or
 *   skipped ones (the user has presumably fixed the cause): pending, without reason or phase. Their recorded
 *   session is resumed where possible.
 */
export function resumedState(previous: RunState, input: ResumeInput): RunState {
  const selected = new Set(input.selected);
  const tasks: Record<MilestoneId, TaskRecord> = {};
  for (const [id, rec] of Object.entries(previous.tasks)) {
    const rebound = { ...rec, branch: branchFor(input.config, rec.id), worktree: rel(input.repoRoot, path.join(input.worktreeDir, rec.id)) };
    if (!selected.has(id) || rec.status === 'done') {
      tasks[id] = rebound;
      continue;
    }
    const { reason: _reason, phase: _phase, ...rest } = rebound;
    tasks[id] = { ...rest, status: 'pending' };
  }
  return {
    ...previous,
    // A tampered name (a user's branch) would be taken as the stage's merge result and fast-forwarded onto the target.
    ...(previous.integrationBranch !== undefined ? { integrationBranch: integrationBranchFor(input.config) } : {}),
    selected: [...input.selected],
    tasks,
  };
}

/**
 * The journal is the record of what each task's agents cost and how many processes they were: the state file,
 * saved without waiting, can be a step behind it after a crash. Returns `state` with each journaled task's
 * calls, cost (USD), turns and tokens taken from the journal; pure.
 */
export function withJournalBookings(state: RunState, view: Pick<JournalView, 'tasks'>): RunState {
  let tasks: Record<MilestoneId, TaskRecord> | undefined;
  for (const [id, log] of view.tasks) {
    const rec = state.tasks[id];
    if (!rec || log.calls === 0) continue;
    tasks ??= { ...state.tasks };
    tasks[id] = { ...rec, attempts: Math.max(rec.attempts, log.calls), costUsd: log.costUsd, turns: log.turns, usage: { ...log.usage } };
  }
  return tasks ? { ...state, tasks } : state;
}

/** `state` without the agent processes it records (once they have been dealt with); pure. */
export function withoutAgentPids(state: RunState): RunState {
  const tasks = Object.fromEntries(
    Object.entries(state.tasks).map(([id, rec]) => {
      if (rec.agentPid === undefined && rec.agentStart === undefined) return [id, rec];
      const { agentPid: _pid, agentStart: _start, ...rest } = rec;
      return [id, rest];
    }),
  );
  return { ...state, tasks };
}
