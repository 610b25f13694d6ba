import type { MilestoneId } from '../milestones/types.js';
import type { RunStateEvent, ScheduleEvent, StageEvent, TaskEvent, TaskFact } from './run-events.js';
import type { RoundRecord, RunState, StageRecord, TaskRecord } from './run-state.js';

/**
 * Applies one event to the run state and returns the new state. Pure: the input is never modified, and what the
 * event does not touch is shared with it (so a recorder can freeze each state and compare by reference). An event
 * about a task or stage the state does not have changes nothing (the state is returned as it is).
 */
export function reduceRunState(state: RunState, event: RunStateEvent): RunState {
  switch (event.type) {
    case 'run-started': {
      const { finishedAt: _finished, ...rest } = state;
      return { ...rest, status: 'running' };
    }
    case 'run-finished': {
      const { message: _message, ...rest } = state;
      return { ...rest, status: event.status, finishedAt: event.at, ...(event.message ? { message: event.message } : {}) };
    }
    case 'paused':
      return { ...state, pause: { until: event.until, reason: event.reason } };
    case 'pause-cleared': {
      if (!state.pause) return state;
      const { pause: _pause, ...rest } = state;
      return rest;
    }
    case 'resource-wait':
      return { ...state, resourceWait: { task: event.task, reasons: [...event.reasons], since: state.resourceWait?.since ?? event.at } };
    case 'resource-wait-cleared': {
      if (!state.resourceWait) return state;
      const { resourceWait: _wait, ...rest } = state;
      return rest;
    }
    case 'schedule-changed':
      return applySchedule(state, event);
    case 'stage-merging':
    case 'stage-merge-failed':
    case 'stage-merged':
    case 'target-advanced':
    case 'stage-settled':
      return applyStage(state, event);
    case 'attempt-started':
    case 'phase-changed':
    case 'worktree-ready':
    case 'worktree-reset':
    case 'retry-feedback-given':
    case 'agent-call-started':
    case 'agent-spawned':
    case 'agent-exited':
    case 'worker-session':
    case 'agent-call-finished':
    case 'committed':
    case 'rounds-reset':
    case 'round-started':
    case 'checks-recorded':
    case 'review-recorded':
    case 'attempt-ended':
    case 'conflict-resolved':
      return withTask(state, event.task, (rec) => applyTask(rec, event));
    default:
      return assertNever(event);
  }
}

/** Task status is the scheduler's: each record takes the status (and reason) the scheduler decided. */
function applySchedule(state: RunState, event: ScheduleEvent): RunState {
  let tasks: Record<MilestoneId, TaskRecord> | undefined;
  for (const t of event.tasks) {
    const rec = state.tasks[t.id];
    if (!rec) continue;
    // A reason stays until the task runs again or succeeds: a task put back to pending keeps why.
    const keepReason = t.reason === undefined && t.status !== 'running' && t.status !== 'done';
    if (rec.status === t.status && (rec.reason === t.reason || keepReason)) continue;
    const { reason: _reason, ...rest } = rec;
    const reason = t.reason ?? (keepReason ? rec.reason : undefined);
    tasks ??= { ...state.tasks };
    tasks[t.id] = { ...rest, status: t.status, ...(reason !== undefined ? { reason } : {}) };
  }
  const started = new Set(event.startedStages);
  const moves = state.stages.some((s) => s.status === 'pending' && started.has(s.stage));
  const stages = moves ? state.stages.map((s) => (s.status === 'pending' && started.has(s.stage) ? { ...s, status: 'running' as const } : s)) : state.stages;
  return tasks === undefined && !moves ? state : { ...state, tasks: tasks ?? state.tasks, stages };
}

function applyStage(state: RunState, event: StageEvent): RunState {
  const index = state.stages.findIndex((s) => s.stage === event.stage);
  if (index < 0) return state;
  const stage = state.stages[index]!;
  const setStage = (next: StageRecord, from: RunState = state): RunState => ({ ...from, stages: from.stages.map((s, i) => (i === index ? next : s)) });
  switch (event.type) {
    case 'stage-merging':
      return setStage({ ...stage, status: 'merging' });
    case 'stage-merge-failed':
      return setStage({ ...stage, status: 'failed', note: event.note });
    case 'stage-merged': {
      const merged = new Set(event.merged);
      const tasks = Object.fromEntries(Object.entries(state.tasks).map(([id, t]) => [id, merged.has(id) && !t.merged ? { ...t, merged: true } : t]));
      return setStage({ ...stage, mergedSha: event.mergedSha }, { ...state, tasks });
    }
    case 'target-advanced':
      return event.integrationBranch === undefined ? state : { ...state, integrationBranch: event.integrationBranch };
    case 'stage-settled': {
      const next = state.stages.findIndex((s) => s.stage > stage.stage);
      return {
        ...state,
        stages: state.stages.map((s, i) => {
          if (i === index) return { ...s, status: event.status };
          if (i === next && stage.mergedSha !== undefined) return { ...s, baseSha: stage.mergedSha };
          return s;
        }),
      };
    }
    default:
      return assertNever(event);
  }
}

function withTask(state: RunState, id: MilestoneId, change: (rec: TaskRecord) => TaskRecord): RunState {
  const rec = state.tasks[id];
  if (!rec) return state;
  const next = change(rec);
  return next === rec ? state : { ...state, tasks: { ...state.tasks, [id]: next } };
}

function applyTask(rec: TaskRecord, event: TaskEvent): TaskRecord {
  const fact: TaskFact = event;
  switch (fact.type) {
    case 'attempt-started':
      return rec.startedAt !== undefined ? rec : { ...rec, startedAt: fact.at };
    case 'phase-changed': {
      const { phase: _phase, ...rest } = rec;
      return fact.phase === undefined ? (rec.phase === undefined ? rec : rest) : { ...rest, phase: fact.phase };
    }
    case 'worktree-ready':
      return { ...rec, baseSha: fact.baseSha, worktree: fact.worktree };
    case 'worktree-reset':
      return without(rec, 'sessionId');
    case 'retry-feedback-given':
      return without(rec, 'retryFeedback');
    case 'agent-call-started':
      return { ...rec, attempts: fact.attempt, transcripts: [...rec.transcripts, fact.transcript] };
    case 'agent-spawned':
      return { ...without(without(rec, 'agentPid'), 'agentStart'), agentPid: fact.pid, ...(fact.start !== undefined ? { agentStart: fact.start } : {}) };
    case 'agent-exited':
      return without(without(rec, 'agentPid'), 'agentStart');
    case 'worker-session':
      return { ...rec, sessionId: fact.sessionId };
    case 'agent-call-finished': {
      const refusals = fact.sandboxRefusals ? { sandboxRefusals: (rec.sandboxRefusals ?? 0) + fact.sandboxRefusals } : {};
      return {
        ...rec,
        turns: rec.turns + fact.turns,
        costUsd: rec.costUsd + fact.costUsd,
        ...(fact.durationMs !== undefined ? { agentMs: (rec.agentMs ?? 0) + fact.durationMs } : {}),
        usage: {
          inputTokens: rec.usage.inputTokens + fact.usage.inputTokens,
          outputTokens: rec.usage.outputTokens + fact.usage.outputTokens,
          cacheReadInputTokens: rec.usage.cacheReadInputTokens + fact.usage.cacheReadInputTokens,
          cacheCreationInputTokens: rec.usage.cacheCreationInputTokens + fact.usage.cacheCreationInputTokens,
        },
        ...refusals,
        ...(fact.workerSessionId !== undefined ? { sessionId: fact.workerSessionId } : {}),
      };
    }
    case 'committed':
      // No head (a hook refused the only commit, nothing was ever committed): the recorded one stands.
      return { ...rec, ...(fact.headSha !== undefined ? { headSha: fact.headSha } : {}), commits: fact.commits };
    case 'rounds-reset':
      return { ...rec, rounds: [] };
    case 'round-started':
      return { ...rec, rounds: [...(rec.rounds ?? []), { round: fact.round, at: fact.at, checks: [], findings: [], reviewCostUsd: 0 }] };
    case 'checks-recorded':
      return withRound(rec, fact.round, (r) => ({ ...r, checks: fact.checks.map((c) => ({ ...c })) }));
    case 'review-recorded':
      return withRound(rec, fact.round, (r) => ({
        ...r,
        reviewCostUsd: fact.reviewCostUsd,
        ...(fact.verdict ? { verdict: fact.verdict.verdict, summary: fact.verdict.summary, findings: fact.verdict.findings.map((f) => ({ ...f })) } : {}),
      }));
    case 'attempt-ended':
      return { ...without(rec, 'phase'), durationMs: rec.durationMs + fact.durationMs, finishedAt: fact.at };
    case 'conflict-resolved':
      return { ...rec, conflictResolved: true };
    default:
      return assertNever(fact);
  }
}

/** The last round numbered `round` (rounds restart after `rounds-reset`). */
function withRound(rec: TaskRecord, round: number, change: (r: RoundRecord) => RoundRecord): TaskRecord {
  const rounds = rec.rounds ?? [];
  const index = rounds.findLastIndex((r) => r.round === round);
  if (index < 0) return rec;
  return { ...rec, rounds: rounds.map((r, i) => (i === index ? change(r) : r)) };
}

function without<K extends keyof TaskRecord>(rec: TaskRecord, key: K): TaskRecord {
  if (!(key in rec)) return rec;
  const copy = { ...rec };
  delete copy[key];
  return copy;
}

function assertNever(value: never): never {
  throw new Error(`unexpected run event: ${JSON.stringify(value)}`);
}
