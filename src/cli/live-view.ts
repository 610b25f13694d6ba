import { createLogUpdate } from 'log-update';
import type { MilestoneId } from '../milestones/types.js';
import type { TaskStatus } from '../scheduler/types.js';
import type { RunStatus, TaskPhase, TaskUsage } from '../state/run-state.js';
import type { RunEvent } from '../run/events.js';

/**
 * The live view of a run on a terminal: a block at the bottom of the screen, redrawn on every event and once a
 * second, with log lines and finished tasks printed above it.
 *
 *   orchestrate · stage 1 of 2 · 1/4 tasks done · $0.0123 · 12.3k tokens · 1m 05s
 *   paused, resuming in 4m 10s: 1A: usage_limit: …              (only while paused)
 *   holding 1C for 12s: load 3.2 >= 2.0                         (only while the resource gate holds a task)
 *     1A  review round 2   1m 05s  12 turns  3.4k tok  $0.0123  Bash      Task title
 *
 * Everything that decides what is shown is pure: `reduceView(model, event)` builds the model from the engine's
 * events, `renderLiveView(model, now, width)` turns it into lines. `LiveView` only wires them to log-update and a
 * timer.
 */

// ---- model -----------------------------------------------------------------------------------------------------

export interface TaskView {
  id: MilestoneId;
  stage: number;
  title: string;
  status: TaskStatus;
  phase?: TaskPhase;
  /** The quality-gate round of the current checks/review phase. */
  round?: number;
  /** The last quality-gate round seen: an `agent` phase after it is the worker fixing that round's findings. */
  lastRound?: number;
  /** Epoch ms. */
  startedAt?: number;
  finishedAt?: number;
  /** Booked totals (from task_cost / task_finished): every finished agent call of the task. */
  turns: number;
  tokens: number;
  costUsd: number;
  /** The agent call in flight (from agent_progress), added to the booked totals until its task_cost arrives. */
  live?: { turns: number; tokens: number; costUsd: number };
  lastTool?: string;
  /** True while a conflict-resolution agent works on this (already finished) task's merge. */
  resolving?: boolean;
  resolveStartedAt?: number;
  reason?: string;
}

export interface ViewModel {
  runId?: string;
  resumed: boolean;
  /** Epoch ms of run_started. */
  startedAt?: number;
  /** The tasks this run executes, in the order run_started listed them. */
  order: MilestoneId[];
  tasks: Record<MilestoneId, TaskView>;
  /** Stages of this run's tasks, ascending. */
  stages: number[];
  mergedStages: number[];
  pause?: { until: number; reason: string };
  resourceWait?: { id: MilestoneId; reasons: string[]; since: number };
  finished?: { status: RunStatus; at: number; costUsd: number; tokens: number; message?: string };
}

export function emptyView(): ViewModel {
  return { resumed: false, order: [], tasks: {}, stages: [], mergedStages: [] };
}

/** A milestone id is its stage digit and a task letter (`2B`). */
function stageOf(id: MilestoneId): number {
  const n = Number.parseInt(id, 10);
  return Number.isFinite(n) ? n : 0;
}

function tokensOf(usage: TaskUsage): number {
  return usage.inputTokens + usage.outputTokens;
}

function newTask(id: MilestoneId): TaskView {
  return { id, stage: stageOf(id), title: '', status: 'pending', turns: 0, tokens: 0, costUsd: 0 };
}

/** Pure: the model after one event. The input model is not changed. */
export function reduceView(model: ViewModel, event: RunEvent): ViewModel {
  const at = Date.parse(event.at);
  const task = (id: MilestoneId): TaskView => ({ ...(model.tasks[id] ?? newTask(id)) });
  const withTask = (t: TaskView, extra: Partial<ViewModel> = {}): ViewModel => ({
    ...model,
    ...(model.order.includes(t.id) ? {} : { order: [...model.order, t.id] }),
    tasks: { ...model.tasks, [t.id]: t },
    ...extra,
  });
  switch (event.type) {
    case 'run_started': {
      const tasks: Record<MilestoneId, TaskView> = {};
      for (const id of event.tasks) tasks[id] = model.tasks[id] ?? newTask(id);
      const stages = [...new Set(event.tasks.map(stageOf))].sort((a, b) => a - b);
      return { ...model, runId: event.runId, resumed: event.resumed, startedAt: at, order: [...event.tasks], tasks, stages };
    }
    case 'task_started': {
      const t = task(event.id);
      t.stage = event.stage;
      t.title = event.title;
      t.status = 'running';
      t.startedAt = at;
      delete t.finishedAt;
      delete t.phase;
      delete t.round;
      delete t.reason;
      const next = withTask(t);
      // A task that starts was let through the gate; stage k+1 starting means stage k's merge is over.
      if (next.resourceWait?.id === event.id) delete next.resourceWait;
      next.tasks = Object.fromEntries(
        Object.entries(next.tasks).map(([id, other]) => [id, other.resolving && other.stage < event.stage ? { ...other, resolving: false } : other]),
      );
      if (!next.stages.includes(event.stage)) next.stages = [...next.stages, event.stage].sort((a, b) => a - b);
      return next;
    }
    case 'task_phase': {
      const t = task(event.id);
      t.phase = event.phase;
      if (event.phase === 'checks' || event.phase === 'review') {
        t.round = event.round;
        if (event.round !== undefined) t.lastRound = event.round;
      } else {
        delete t.round;
      }
      return withTask(t);
    }
    case 'agent_progress': {
      const t = task(event.id);
      t.live = { turns: event.turns, tokens: event.outputTokens ?? t.live?.tokens ?? 0, costUsd: event.costUsd ?? t.live?.costUsd ?? 0 };
      if (event.lastTool) t.lastTool = event.lastTool;
      if (event.purpose === 'resolve') {
        if (!t.resolving) t.resolveStartedAt = at;
        t.resolving = true;
        t.phase = 'merge';
      }
      return withTask(t);
    }
    case 'task_cost': {
      const t = task(event.id);
      t.turns = event.turns;
      t.tokens = tokensOf(event.usage);
      t.costUsd = event.costUsd;
      delete t.live;
      return withTask(t);
    }
    case 'task_finished': {
      const t = task(event.id);
      t.status = event.status;
      t.finishedAt = at;
      t.turns = event.turns;
      t.tokens = tokensOf(event.usage);
      t.costUsd = event.costUsd;
      if (event.reason) t.reason = event.reason;
      delete t.live;
      delete t.phase;
      delete t.round;
      return withTask(t);
    }
    case 'stage_merged': {
      const tasks = Object.fromEntries(
        Object.entries(model.tasks).map(([id, t]) => {
          if (t.stage !== event.stage || t.status === 'running') return [id, t];
          const { phase: _phase, resolving: _resolving, resolveStartedAt: _since, ...settled } = t;
          return [id, settled];
        }),
      );
      return { ...model, tasks, mergedStages: [...new Set([...model.mergedStages, event.stage])].sort((a, b) => a - b) };
    }
    case 'resource_wait': {
      const since = model.resourceWait?.id === event.id ? model.resourceWait.since : at;
      return { ...model, resourceWait: { id: event.id, reasons: [...event.reasons], since } };
    }
    case 'paused':
      return { ...model, pause: { until: Date.parse(event.until), reason: event.reason } };
    case 'resumed': {
      const { pause: _pause, ...rest } = model;
      return rest;
    }
    case 'log':
      return model;
    case 'run_finished': {
      const { pause: _pause, resourceWait: _wait, ...rest } = model;
      const tasks = Object.fromEntries(Object.entries(model.tasks).map(([id, t]) => [id, t.resolving ? { ...t, resolving: false } : t]));
      return { ...rest, tasks, finished: { status: event.status, at, costUsd: event.costUsd, tokens: tokensOf(event.usage), ...(event.message ? { message: event.message } : {}) } };
    }
    default: {
      // An event type added later: nothing to show yet.
      return model;
    }
  }
}

// ---- rendering -------------------------------------------------------------------------------------------------

/** Pure: the live block for `now` (epoch ms), every line at most `width` columns. */
export function renderLiveView(model: ViewModel, now: number, width: number): string {
  const lines = [headerLine(model, now)];
  if (model.pause) {
    const left = model.pause.until - now;
    lines.push(`paused, ${left > 0 ? `resuming in ${formatElapsed(left)}` : 'resuming now'}: ${model.pause.reason}`);
  }
  if (model.resourceWait) {
    const w = model.resourceWait;
    lines.push(`holding ${w.id} for ${formatElapsed(now - w.since)}: waiting for resources (${w.reasons.join('; ')})`);
  }
  // Once the run is over the header says it all (a task still marked running was cut off by the end).
  for (const id of model.finished ? [] : model.order) {
    const t = model.tasks[id];
    if (t && (t.status === 'running' || t.resolving)) lines.push(taskLine(t, now));
  }
  return lines.map((l) => fit(oneLine(l), width)).join('\n');
}

function headerLine(model: ViewModel, now: number): string {
  const tasks = model.order.map((id) => model.tasks[id]).filter((t): t is TaskView => t !== undefined);
  const count = (s: TaskStatus) => tasks.filter((t) => t.status === s).length;
  const parts: string[] = [];
  parts.push(model.finished ? `orchestrate ${model.finished.status}` : 'orchestrate');
  const stage = currentStage(model);
  if (stage !== undefined) parts.push(`stage ${model.stages.indexOf(stage) + 1} of ${model.stages.length}${merging(model, stage) ? ' (merging)' : ''}`);
  let done = `${count('done')}/${tasks.length} tasks done`;
  const others = (['failed', 'needs_attention', 'skipped'] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${s.replace('_', ' ')}`);
  if (others.length > 0) done += ` (${others.join(', ')})`;
  parts.push(done);
  const totals = model.finished ?? { costUsd: sum(tasks, (t) => t.costUsd + (t.live?.costUsd ?? 0)), tokens: sum(tasks, (t) => t.tokens + (t.live?.tokens ?? 0)) };
  parts.push(formatCost(totals.costUsd), `${formatTokens(totals.tokens)} tokens`);
  if (model.startedAt !== undefined) parts.push(formatElapsed((model.finished?.at ?? now) - model.startedAt));
  let line = parts.join(' · ');
  if (model.finished?.message) line += ` — ${model.finished.message}`;
  return line;
}

/** The highest stage with a started task; before any starts, the first stage of the run. */
function currentStage(model: ViewModel): number | undefined {
  const started = Object.values(model.tasks).filter((t) => t.startedAt !== undefined).map((t) => t.stage);
  if (started.length > 0) return Math.max(...started);
  return model.stages[0];
}

/** Every task of the stage settled, some done, and the merge not reported yet. */
function merging(model: ViewModel, stage: number): boolean {
  if (model.finished || model.mergedStages.includes(stage)) return false;
  const tasks = Object.values(model.tasks).filter((t) => t.stage === stage);
  return tasks.length > 0 && tasks.every((t) => t.status !== 'running' && t.status !== 'pending' && t.status !== 'blocked') && tasks.some((t) => t.status === 'done');
}

function taskLine(t: TaskView, now: number): string {
  const since = t.resolving ? t.resolveStartedAt : t.startedAt;
  const elapsed = since === undefined ? '' : formatElapsed(now - since);
  const turns = t.turns + (t.live?.turns ?? 0);
  const tokens = t.tokens + (t.live?.tokens ?? 0);
  const cost = t.costUsd + (t.live?.costUsd ?? 0);
  return [
    `  ${t.id}`,
    phaseLabel(t).padEnd(16),
    elapsed.padStart(7),
    `${turns} turn${turns === 1 ? '' : 's'}`.padStart(9),
    `${formatTokens(tokens)} tok`.padStart(10),
    formatCost(cost).padStart(8),
    (t.lastTool ?? '-').padEnd(10),
    t.title,
  ].join('  ').trimEnd();
}

/** What a task is doing, in words: set-up, agent, fixing round k, commit, checks, review round k, merge. */
export function phaseLabel(t: Pick<TaskView, 'phase' | 'round' | 'lastRound' | 'resolving'>): string {
  if (t.resolving) return 'merge (conflict)';
  switch (t.phase) {
    case undefined:
      return 'starting';
    case 'setup':
      return 'set-up';
    case 'agent':
      return t.lastRound !== undefined ? `fixing round ${t.lastRound}` : 'agent';
    case 'commit':
      return 'commit';
    case 'checks':
      return t.round !== undefined && t.round > 1 ? `checks round ${t.round}` : 'checks';
    case 'review':
      return t.round !== undefined ? `review round ${t.round}` : 'review';
    case 'merge':
      return 'merge';
    default:
      return String(t.phase);
  }
}

/** The permanent line printed above the block when a task finishes. */
export function finishedLine(event: Extract<RunEvent, { type: 'task_finished' }>): string {
  const mark = event.status === 'done' ? '✔' : event.status === 'skipped' ? '-' : '✖';
  const facts = event.status === 'skipped' ? [] : [`${formatElapsed(event.durationMs)}`, `${event.turns} turn${event.turns === 1 ? '' : 's'}`, formatCost(event.costUsd)];
  const status = event.status.replace('_', ' ');
  return oneLine(`${mark} ${event.id} ${status}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}${event.reason ? `: ${event.reason}` : ''}`);
}

/**
 * Which log lines are printed above the live block: every warning and error, and the info lines the block does not
 * already show (stage merges, run start, pause over, quality-gate rounds). Per-task chatter ("[1A] agent started",
 * "[1A] check … passed", "holding 1C", the pause countdown) stays in the log file.
 */
export function showAboveBlock(level: 'debug' | 'info' | 'warn' | 'error', line: string): boolean {
  if (level === 'warn' || level === 'error') return true;
  if (level === 'debug') return false;
  if (/^holding \S+: /.test(line) || /^paused: resuming in /.test(line)) return false;
  if (/^\[[^\]]+\] /.test(line)) return /^\[[^\]]+\] round \d+:/.test(line);
  return true;
}

// ---- formatting ------------------------------------------------------------------------------------------------

/** `5s`, `1m 05s`, `2h 03m`. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** `950`, `12.3k`, `4.5M`. */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function formatCost(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

function sum<T>(items: readonly T[], f: (t: T) => number): number {
  return items.reduce((acc, t) => acc + f(t), 0);
}

/** Control characters (a reason's newlines, an escape sequence in a title) would break the block's line count. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r?\n/g, ' ⏎ ').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/** Columns a character takes: 2 for East Asian wide and most emoji, else 1. */
function charWidth(cp: number): number {
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** Cuts a line to `width` columns, ending with `…` when something was cut. */
export function fit(line: string, width: number): string {
  const max = Math.max(1, Math.floor(width));
  if (displayWidth(line) <= max) return line;
  let out = '';
  let w = 0;
  for (const ch of line) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > max - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

// ---- the terminal shell ----------------------------------------------------------------------------------------

export interface LiveTerminal extends NodeJS.WritableStream {
  columns?: number;
}

/** How often the block is redrawn at most for a burst of events (the 1 s timer keeps clocks moving). */
const EVENT_REDRAW_MS = 100;
const TICK_MS = 1000;

/**
 * Wires the pure view to a terminal: log-update draws the block, `print` puts a permanent line above it (clear the
 * block, write, redraw), a timer keeps elapsed times and the pause countdown moving. `stop` draws the final block
 * and leaves it on screen.
 */
export class LiveView {
  private model = emptyView();
  private readonly draw: ReturnType<typeof createLogUpdate>;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;

  constructor(
    private readonly terminal: LiveTerminal,
    private readonly now: () => number = Date.now,
  ) {
    this.draw = createLogUpdate(terminal);
  }

  event(event: RunEvent): void {
    if (this.stopped) return;
    this.model = reduceView(this.model, event);
    if (!this.started) {
      this.started = true;
      this.timer = setInterval(() => this.render(), TICK_MS);
      this.timer.unref();
      this.render();
    }
    if (event.type === 'task_finished') {
      this.print((text) => this.terminal.write(text), `${clock(this.now())} ${finishedLine(event)}\n`);
      return;
    }
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      this.render();
    }, EVENT_REDRAW_MS);
    this.pending.unref();
  }

  /** Writes text above the block (through `write`, so stderr text still goes to stderr), then redraws. */
  print(write: (text: string) => void, text: string): void {
    if (this.stopped || !this.started) {
      write(text);
      return;
    }
    this.draw.clear();
    write(text);
    this.render();
  }

  /** Final drawing; the block stays on screen and whatever is written next goes below it. */
  stop(): void {
    if (this.stopped) return;
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    if (this.started) {
      this.render();
      this.draw.done();
    }
    this.stopped = true;
  }

  get view(): ViewModel {
    return this.model;
  }

  private render(): void {
    if (this.stopped) return;
    this.draw(renderLiveView(this.model, this.now(), this.terminal.columns ?? 80));
  }
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
