import type { MilestoneId } from '../milestones/types.js';
import { attentionOf, needsAction } from '../report/attention.js';
import type { Logger } from '../report/logger.js';
import { reduceRunState } from '../state/reduce-run-state.js';
import type { JournalWriter, NewJournalEntry } from '../state/journal.js';
import type { RunStateEvent, TaskFact } from '../state/run-events.js';
import { runTotals, type RunState, type TaskRecord } from '../state/run-state.js';
import type { WithoutAtEvent } from './context.js';

/** One task's view of the recorder: what a step reads of its task, and how it says what happened to it. */
export interface TaskRecorder {
  readonly id: MilestoneId;
  /** The task's record as it is now (frozen: read it again after recording something). */
  current(): TaskRecord;
  record(fact: TaskFact): void;
  /**
   * For a fact that is also a journal line (an agent call started, its session, its end): appends `entry` to the run
   * journal, and once that is durable records `fact`, so the state never runs ahead of the journal. Rejects, with
   * nothing recorded, when the journal cannot be written.
   */
  journaled(entry: TaskJournalEntry, fact?: TaskFact): Promise<void>;
}

/** A journal line of one task, without the task and time the writer adds. */
export type TaskJournalEntry = NewJournalEntry extends infer E ? (E extends unknown ? Omit<E, 'task'> : never) : never;

export interface RecorderOutputs {
  /**
   * Saves the state file, TASKS.md and metrics for `state` (a frozen snapshot). Called one save at a time; a failure
   * is the callee's to report (the journal, not the state file, is what a resume trusts for finished steps).
   */
  save: (state: RunState) => Promise<void>;
  /** The NDJSON / live-view sink. A sink that throws is the sink's problem, never the run's. */
  emit: (event: WithoutAtEvent) => void;
  logger: Logger;
  /** Makes the recorded (repository-relative) paths in attention details absolute. */
  repoRoot: string;
  /** The run journal, for the facts that are journal lines too (`TaskRecorder.journaled`). */
  journal?: Pick<JournalWriter, 'append'>;
  /**
   * How long (ms) a change waits for the save it schedules, so the events of a busy moment are one write (default 0:
   * the next turn of the event loop). `save()` never waits. The journal, not the state file, is what a resume
   * trusts for finished steps, so a save that lags a little loses nothing.
   */
  saveDelayMs?: number;
}

/**
 * The one owner of the run state while a run goes: the only caller of `reduceRunState`, it holds the current state
 * (deep-frozen, so nothing else can change it in place), and after each event schedules the coalesced save of the
 * state file, TASKS.md and metrics and emits the NDJSON/live-view events that event means. Facts that are journal
 * lines too go to the journal first (`TaskRecorder.journaled`); the journal's other lines (steps begun and done)
 * are written by the steps' exactly-once runner (run/journal.ts), durable before the next step starts.
 */
export class RunRecorder {
  private current: RunState;
  /** The state the last finished save wrote: states are frozen and replaced, so `current !== lastSaved` means unsaved. */
  private lastSaved: RunState | undefined;
  private saving: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    initial: RunState,
    private readonly out: RecorderOutputs,
  ) {
    this.current = freezeDeep(initial);
  }

  get state(): RunState {
    return this.current;
  }

  record(event: RunStateEvent): void {
    const before = this.current;
    const after = freezeDeep(reduceRunState(before, event));
    this.current = after;
    const events = notifications(event, before, after, this.out.repoRoot);
    // The end of the run goes out once the state file says so: whoever reads it on run_finished sees the end.
    if (event.type === 'run-finished') {
      void this.save()
        .catch((err: unknown) => this.saveFailed(err))
        .then(() => events.forEach((e) => this.emit(e)));
    } else {
      // A running agent's pid is saved at once: it is what a resume after a crash needs to stop that agent.
      if (after !== before && event.type === 'agent-spawned') void this.save().catch((err: unknown) => this.saveFailed(err));
      else if (after !== before) this.scheduleSave();
      for (const e of events) this.emit(e);
    }
    if (event.type === 'phase-changed' && event.phase) this.out.logger.debug(`[${event.task}] phase ${event.phase}`);
  }

  forTask(id: MilestoneId): TaskRecorder {
    return {
      id,
      current: () => {
        const rec = this.current.tasks[id];
        if (!rec) throw new Error(`run state: no record for ${id}`);
        return rec;
      },
      record: (fact) => this.record({ ...fact, task: id } as RunStateEvent),
      journaled: async (entry, fact) => {
        if (!this.out.journal) throw new Error('run state: no journal to record in');
        await this.out.journal.append({ ...entry, task: id } as NewJournalEntry);
        if (fact) this.record({ ...fact, task: id } as RunStateEvent);
      },
    };
  }

  /** The state `event` would give, without recording it: what a file written before the fact must already show. */
  preview(event: RunStateEvent): RunState {
    return reduceRunState(this.current, event);
  }

  /** Progress that changes no state (agent progress): straight to the NDJSON/live-view sink. */
  notify(event: WithoutAtEvent): void {
    this.emit(event);
  }

  /**
   * Saves the state as it is now. Saves run one at a time, the latest state last; calls while a save runs coalesce
   * into one more save (a burst of events is one write). Resolves once a save that started after the call is done.
   */
  save(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.saving === undefined && this.current === this.lastSaved) return Promise.resolve();
    this.saving ??= this.saveAll();
    return this.saving;
  }

  /** A save of the state as it will be `saveDelayMs` from now; a save running or scheduled already takes it along. */
  private scheduleSave(): void {
    if (this.timer !== undefined || this.saving !== undefined) return;
    this.timer = setTimeout(() => void this.save().catch((err: unknown) => this.saveFailed(err)), this.out.saveDelayMs ?? 0);
  }

  /** Writes until the latest state is written (a state that changes during a write is written next). */
  private async saveAll(): Promise<void> {
    // Asynchronous from the first line, so `saving` is assigned before the finally below clears it.
    await Promise.resolve();
    try {
      do {
        const state = this.current;
        await this.out.save(state);
        this.lastSaved = state;
      } while (this.current !== this.lastSaved);
    } finally {
      this.saving = undefined;
    }
  }

  /** A save nobody awaits that failed: said once in the log; the next change tries again. */
  private saveFailed(err: unknown): void {
    this.out.logger.warn(`could not save the run state: ${err instanceof Error ? err.message : String(err)}`);
  }

  private emit(event: WithoutAtEvent): void {
    try {
      this.out.emit(event);
    } catch {
      /* a broken display must not break the run */
    }
  }
}

/** The NDJSON/live-view events one run event means, from the state before and after it. */
function notifications(event: RunStateEvent, before: RunState, after: RunState, repoRoot: string): WithoutAtEvent[] {
  switch (event.type) {
    case 'run-started':
      return [{ type: 'run_started', runId: after.runId, resumed: event.resumed, tasks: [...event.tasks], maxParallel: event.maxParallel, targetBranch: after.targetBranch }];
    case 'run-finished': {
      const totals = runTotals(after);
      return [{ type: 'run_finished', runId: after.runId, status: event.status, costUsd: totals.costUsd, usage: totals.usage, ...(event.message ? { message: event.message } : {}) }];
    }
    case 'paused':
      return [{ type: 'paused', until: event.until, reason: event.reason }];
    case 'pause-cleared':
      return before.pause ? [{ type: 'resumed' }] : [];
    case 'resource-wait':
      return [{ type: 'resource_wait', id: event.task, reasons: [...event.reasons] }];
    case 'schedule-changed':
      return taskTransitions(before, after, repoRoot);
    case 'phase-changed': {
      // The merge phase comes after the task has settled; the live view shows stage merges as such.
      if (!event.phase || event.phase === 'merge') return [];
      const round = event.phase === 'review' || event.phase === 'checks' ? { round: after.tasks[event.task]?.rounds?.length ?? 0 } : {};
      return [{ type: 'task_phase', id: event.task, phase: event.phase, ...round }];
    }
    case 'agent-call-finished': {
      const rec = after.tasks[event.task];
      return rec ? [{ type: 'task_cost', id: rec.id, costUsd: rec.costUsd, usage: { ...rec.usage }, turns: rec.turns }] : [];
    }
    case 'target-advanced':
      return [{ type: 'stage_merged', stage: event.stage, sha: event.sha, branch: event.branch, merged: [...event.merged] }];
    case 'resource-wait-cleared':
    case 'stage-merging':
    case 'stage-merge-failed':
    case 'stage-merged':
    case 'stage-settled':
    case 'attempt-started':
    case 'worktree-ready':
    case 'worktree-reset':
    case 'retry-feedback-given':
    case 'agent-call-started':
    case 'agent-spawned':
    case 'agent-exited':
    case 'worker-session':
    case 'committed':
    case 'rounds-reset':
    case 'round-started':
    case 'checks-recorded':
    case 'review-recorded':
    case 'attempt-ended':
    case 'conflict-resolved':
      return [];
    default: {
      const never: never = event;
      return never;
    }
  }
}

/** Task starts and ends the scheduler decided: `task_started`, and `task_finished` with what to act on. */
function taskTransitions(before: RunState, after: RunState, repoRoot: string): WithoutAtEvent[] {
  const events: WithoutAtEvent[] = [];
  for (const rec of Object.values(after.tasks)) {
    const was = before.tasks[rec.id]?.status;
    if (was === undefined || was === rec.status) continue;
    if (rec.status === 'running') events.push({ type: 'task_started', id: rec.id, stage: rec.stage, title: rec.title });
    // A running task back to pending was cut off by a stop: it ended for this run (the resume continues it).
    else if (rec.status === 'done' || rec.status === 'failed' || rec.status === 'needs_attention' || rec.status === 'skipped' || (rec.status === 'pending' && was === 'running')) {
      // A task a person must act on carries what to act on (findings, failed checks, how to continue).
      const attention = needsAction(rec) ? { attention: attentionOf(rec, repoRoot) } : {};
      events.push({ type: 'task_finished', id: rec.id, status: rec.status, ...(rec.reason ? { reason: rec.reason } : {}), costUsd: rec.costUsd, usage: rec.usage, turns: rec.turns, durationMs: rec.durationMs, ...attention });
    }
  }
  return events;
}

/**
 * Freezes `value` and everything reachable from it, stopping at what is frozen already: with a reducer that shares
 * unchanged parts, that is only what the last event changed. A step that tried to change a record in place would
 * throw (ES modules are strict) instead of changing the state behind the recorder's back.
 */
function freezeDeep<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value)) freezeDeep(child);
  return value;
}
