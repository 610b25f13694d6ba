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
  /** The last tool of the agent working now (never a tool of an earlier agent call: the worker's, for the reviewer). */
  lastTool?: string;
  /** Whose `lastTool` it is: the agent_progress `purpose` (`agent`, `review`, `resolve`). */
  toolOf?: string;
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

/**
 * Tools the agent CLI uses for its own plumbing, not work a person would recognise: Claude Code answers a
 * `--json-schema` request (the review verdict) through a `StructuredOutput` tool call.
 */
const INTERNAL_TOOLS: ReadonlySet<string> = new Set(['StructuredOutput']);

/**
 * The status a person should read. A task the engine stopped because the run was interrupted (Ctrl-C, SIGTERM, a
 * usage-limit stop) is recorded as pending with a reason starting "interrupted" (runs of older versions: failed);
 * it did not fail, and --resume continues it.
 */
export type ShownStatus = TaskStatus | 'interrupted';

export function shownStatus(status: TaskStatus, reason: string | undefined): ShownStatus {
  // Pending with that reason: the scheduler put a task a stop cut off back for the resume (src/run/task.ts).
  const cutOff = reason === 'interrupted' || reason?.startsWith('interrupted (') === true;
  return (status === 'failed' || status === 'pending') && cutOff ? 'interrupted' : status;
}

function newTask(id: MilestoneId): TaskView {
  return { id, stage: stageOf(id), title: '', status: 'pending', turns: 0, tokens: 0, costUsd: 0 };
}

/** Pure: the model after one event. The input model is not changed. */
export function reduceView(model: ViewModel, event: RunEvent): ViewModel {
  const at = Date.parse(event.at);
  // A resumed run lists only the tasks it runs; one of the others that shows up (its conflict resolution, booked to
  // it) finished in the run before and is being merged now: it is done, not a task still to do.
  const task = (id: MilestoneId): TaskView => ({ ...(model.tasks[id] ?? (model.resumed ? { ...newTask(id), status: 'done' } : newTask(id))) });
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
      // A new phase is a new step: the last tool was the previous agent's (the worker's, when the review starts).
      if (event.phase !== t.phase) {
        delete t.lastTool;
        delete t.toolOf;
      }
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
      if (t.toolOf !== event.purpose) {
        delete t.lastTool;
        t.toolOf = event.purpose;
      }
      if (event.lastTool && !INTERNAL_TOOLS.has(event.lastTool)) t.lastTool = event.lastTool;
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

/**
 * Pure: the live block for `now` (epoch ms), every line at most `width` columns and at most `height` lines (the
 * header stays; running tasks beyond the room are counted in a last line). Narrow terminals keep what matters:
 * the header drops tokens, then cost, then the stage before its elapsed time; task lines keep id, title and phase
 * and drop the tool, tokens, turns, cost and elapsed columns in that order (see `layoutColumns`).
 */
export function renderLiveView(model: ViewModel, now: number, width: number, height = Number.POSITIVE_INFINITY): string {
  const lines = [headerLine(model, now, width)];
  if (model.pause) {
    const left = model.pause.until - now;
    lines.push(`paused, ${left > 0 ? `resuming in ${formatElapsed(left)}` : 'resuming now'}: ${model.pause.reason}`);
  }
  if (model.resourceWait) {
    const w = model.resourceWait;
    lines.push(`holding ${w.id} for ${formatElapsed(now - w.since)}: waiting for resources (${w.reasons.join('; ')})`);
  }
  // Once the run is over the header says it all (a task still marked running was cut off by the end).
  const running = (model.finished ? [] : model.order)
    .map((id) => model.tasks[id])
    .filter((t): t is TaskView => t !== undefined && (t.status === 'running' || t.resolving === true));
  // One row stays free for the cursor line below the block: a block as high as the screen would scroll it.
  const room = Math.max(1, Math.floor(height) - 1 - lines.length);
  const shown = running.length > room ? running.slice(0, Math.max(0, room - 1)) : running;
  lines.push(...taskLines(shown, now, width));
  if (shown.length < running.length) lines.push(`  … and ${running.length - shown.length} more running`);
  return lines.map((l) => fit(oneLine(l), width)).join('\n');
}

function headerLine(model: ViewModel, now: number, width: number): string {
  const tasks = model.order.map((id) => model.tasks[id]).filter((t): t is TaskView => t !== undefined);
  const count = (s: ShownStatus) => tasks.filter((t) => shownStatus(t.status, t.reason) === s).length;
  const name = model.finished ? `orchestrate ${model.finished.status}` : 'orchestrate';
  const stage = currentStage(model);
  const done = `${count('done')}/${plural(tasks.length, 'task')} done`;
  const others = (['failed', 'needs_attention', 'interrupted', 'skipped'] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${s.replace('_', ' ')}`);
  const totals = model.finished ?? { costUsd: sum(tasks, (t) => t.costUsd + (t.live?.costUsd ?? 0)), tokens: sum(tasks, (t) => t.tokens + (t.live?.tokens ?? 0)) };
  const parts: Array<{ key: 'name' | 'stage' | 'done' | 'others' | 'cost' | 'tokens' | 'elapsed'; text: string }> = [{ key: 'name', text: name }];
  if (stage !== undefined) parts.push({ key: 'stage', text: `stage ${model.stages.indexOf(stage) + 1} of ${model.stages.length}${merging(model, stage) ? ' (merging)' : ''}` });
  parts.push({ key: 'done', text: done });
  // Glued to the count: "1/3 tasks done (1 failed)".
  if (others.length > 0) parts.push({ key: 'others', text: `(${others.join(', ')})` });
  parts.push({ key: 'cost', text: formatCost(totals.costUsd) }, { key: 'tokens', text: `${formatTokens(totals.tokens)} tokens` });
  if (model.startedAt !== undefined) parts.push({ key: 'elapsed', text: formatElapsed((model.finished?.at ?? now) - model.startedAt) });
  const join = (ps: typeof parts) => ps.map((p, i) => (i === 0 ? p.text : `${p.key === 'others' ? ' ' : ' · '}${p.text}`)).join('');
  let kept = parts;
  for (const drop of ['tokens', 'cost', 'stage', 'others'] as const) {
    if (displayWidth(join(kept)) <= width) break;
    kept = kept.filter((p) => p.key !== drop);
  }
  const line = join(kept);
  return model.finished?.message ? `${line} — ${model.finished.message}` : line;
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

type ColumnKey = 'phase' | 'elapsed' | 'turns' | 'tokens' | 'cost' | 'tool';

/** The columns after the title, left to right, and how each is aligned. */
const COLUMNS: ReadonlyArray<{ key: ColumnKey; align: 'left' | 'right' }> = [
  { key: 'phase', align: 'left' },
  { key: 'elapsed', align: 'right' },
  { key: 'turns', align: 'right' },
  { key: 'tokens', align: 'right' },
  { key: 'cost', align: 'right' },
  { key: 'tool', align: 'left' },
];
/** Which columns go first when the width is short; id, title and phase always stay. */
const DROP_ORDER: readonly ColumnKey[] = ['tool', 'tokens', 'turns', 'cost', 'elapsed'];
/** A title shorter than this is not worth the columns it would make room for. */
const MIN_TITLE = 16;
/** Long MCP tool names (mcp__server__tool) would push everything else off. */
const MAX_TOOL = 14;
const GAP = '  ';

function cells(t: TaskView, now: number): Record<ColumnKey, string> {
  const since = t.resolving ? t.resolveStartedAt : t.startedAt;
  const turns = t.turns + (t.live?.turns ?? 0);
  return {
    phase: phaseLabel(t),
    elapsed: since === undefined ? '' : formatElapsed(now - since),
    turns: plural(turns, 'turn'),
    tokens: `${formatTokens(t.tokens + (t.live?.tokens ?? 0))} tok`,
    cost: formatCost(t.costUsd + (t.live?.costUsd ?? 0)),
    tool: fit(t.lastTool ?? '-', MAX_TOOL),
  };
}

/**
 * Which columns fit beside a readable title at `width`, and their widths: every column as wide as its widest cell,
 * so the rows line up; columns leave in DROP_ORDER until the title gets MIN_TITLE columns (or its full length).
 */
export function layoutColumns(rows: ReadonlyArray<{ title: string; cells: Record<ColumnKey, string> }>, width: number): { title: number; columns: Array<{ key: ColumnKey; align: 'left' | 'right'; width: number }> } {
  const prefix = 2 + 2 + GAP.length; // "  1A  "
  const longestTitle = Math.max(0, ...rows.map((r) => displayWidth(r.title)));
  let columns = COLUMNS.map((c) => ({ ...c, width: Math.max(0, ...rows.map((r) => displayWidth(r.cells[c.key]))) }));
  const used = () => prefix + columns.reduce((n, c) => n + c.width + GAP.length, 0);
  for (const drop of DROP_ORDER) {
    if (width - used() >= Math.min(MIN_TITLE, longestTitle)) break;
    columns = columns.filter((c) => c.key !== drop);
  }
  return { title: Math.max(1, Math.min(longestTitle, width - used())), columns };
}

function taskLines(tasks: readonly TaskView[], now: number, width: number): string[] {
  const rows = tasks.map((t) => ({ id: t.id, title: oneLine(t.title), cells: cells(t, now) }));
  const layout = layoutColumns(rows, width);
  return rows.map((r) => {
    const title = padTo(fit(r.title, layout.title), layout.title);
    const rest = layout.columns.map((c) => (c.align === 'left' ? padTo(r.cells[c.key], c.width) : padStart(r.cells[c.key], c.width)));
    return [`  ${r.id}`, title, ...rest].join(GAP).trimEnd();
  });
}

function padTo(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(text))) + text;
}

/** `1 turn`, `2 turns`, `0 tasks`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
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

/** The mark before a finished task's line. */
export function statusMark(status: ShownStatus): string {
  switch (status) {
    case 'done':
      return '✔';
    case 'failed':
      return '✖';
    case 'needs_attention':
      return '!';
    case 'interrupted':
      return '■';
    case 'skipped':
      return '-';
    case 'pending':
    case 'blocked':
    case 'running':
      return ' ';
    default: {
      const never: never = status;
      return never;
    }
  }
}

/** The permanent line printed above the block when a task finishes. */
export function finishedLine(event: Extract<RunEvent, { type: 'task_finished' }>): string {
  const status = shownStatus(event.status, event.reason);
  const facts = status === 'skipped' ? [] : [`${formatElapsed(event.durationMs)}`, plural(event.turns, 'turn'), formatCost(event.costUsd)];
  // "interrupted: interrupted" says nothing twice; what to do next is in the summary.
  const reason = status === 'interrupted' ? undefined : event.reason;
  return oneLine(`${statusMark(status)} ${event.id} ${status.replace('_', ' ')}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}${reason ? `: ${reason}` : ''}`);
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
  rows?: number;
  /**
   * The terminal's size now, `[columns, rows]`, asked of the terminal itself (tty.WriteStream's ioctl):
   * `columns`/`rows` change only when Node handles SIGWINCH, which can come after the terminal has re-wrapped.
   */
  getWindowSize?: () => [number, number];
}

interface TerminalSize {
  columns: number;
  rows: number;
}

export interface LiveViewOptions {
  now?: () => number;
  /** Colour and bold (a terminal without NO_COLOR); off: plain text. */
  color?: boolean;
  /** Bell and OSC 9 notification when a task needs attention and when the run ends. */
  notify?: boolean;
}

/** How often the block is redrawn at most for a burst of events (the 1 s timer keeps clocks moving). */
const EVENT_REDRAW_MS = 100;
const TICK_MS = 1000;

/**
 * Rows a block of `lines` (each at most as wide as the terminal was when drawn) takes after the terminal was
 * resized to `columns`: terminals that reflow (tmux, VTE, iTerm2, Windows Terminal, kitty) wrap each old line anew.
 */
export function rowsAfterResize(lines: readonly string[], columns: number): number {
  const cols = Math.max(1, Math.floor(columns));
  return lines.reduce((n, line) => n + Math.max(1, Math.ceil(displayWidth(line) / cols)), 0);
}

/**
 * A terminal notification: OSC 9 (a desktop notification in iTerm2, Windows Terminal, kitty, WezTerm, ConEmu;
 * ignored elsewhere), then a bell (BEL), which every terminal and tmux turn into a sound, a flash or a marked tab.
 */
export function notification(message: string): string {
  // eslint-disable-next-line no-control-regex
  const text = message.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return `\u001b]9;${text}\u0007\u0007`;
}

/**
 * Wires the pure view to a terminal: log-update draws the block, `print` puts a permanent line above it (clear the
 * block, write, redraw), a timer keeps elapsed times and the pause countdown moving, a resize erases the block as the
 * terminal re-wrapped it and draws it anew at the new width. `stop` draws the final block and leaves it on screen.
 */
export class LiveView {
  private model = emptyView();
  private readonly draw: ReturnType<typeof createLogUpdate>;
  private readonly now: () => number;
  private readonly style: Styler;
  private readonly notify: boolean;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  /** The block as last drawn (plain text), for erasing it after a resize. */
  private drawn: string[] = [];
  /** The terminal size the block was last drawn for. */
  private drawnFor: TerminalSize | undefined;
  private readonly onResize = () => this.redrawAfterResize();

  constructor(
    private readonly terminal: LiveTerminal,
    opts: LiveViewOptions | (() => number) = {},
  ) {
    const o = typeof opts === 'function' ? { now: opts } : opts;
    this.now = o.now ?? Date.now;
    this.style = styler(o.color === true);
    this.notify = o.notify === true;
    this.draw = createLogUpdate(terminal);
  }

  event(event: RunEvent): void {
    if (this.stopped) return;
    this.model = reduceView(this.model, event);
    if (!this.started) {
      this.started = true;
      this.timer = setInterval(() => this.render(), TICK_MS);
      this.timer.unref();
      this.terminal.on('resize', this.onResize);
      this.render();
    }
    if (event.type === 'task_finished') {
      const status = shownStatus(event.status, event.reason);
      this.print((text) => this.terminal.write(text), `${localClock(this.now())} ${this.style.finished(status, finishedLine(event))}\n`);
      if (status === 'needs_attention' && this.notify) this.terminal.write(notification(`orchestrate: ${event.id} needs attention`));
      return;
    }
    if (event.type === 'run_finished' && this.notify) this.terminal.write(notification(`orchestrate: run ${event.status}`));
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
    // A resize not handled yet: clear() would erase only the rows log-update drew, not the re-wrapped ones.
    this.fitToTerminal();
    this.draw.clear();
    write(text);
    this.render();
  }

  /** Final drawing; the block stays on screen and whatever is written next goes below it. */
  stop(): void {
    if (this.stopped) return;
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    this.terminal.removeListener('resize', this.onResize);
    if (this.started) {
      this.render();
      this.draw.done();
    }
    this.stopped = true;
  }

  get view(): ViewModel {
    return this.model;
  }

  /**
   * Draws the block for the terminal's size as it is now. Asked afresh every time, not taken from `columns`: a
   * timer tick between the terminal's re-wrap and Node's SIGWINCH would otherwise draw at the old width and let
   * log-update erase too few rows (a ghost header). A size that changed since the last drawing gets the resize path.
   */
  private render(): void {
    if (this.stopped) return;
    const size = this.fitToTerminal();
    const block = renderLiveView(this.model, this.now(), size.columns, size.rows);
    this.drawn = block.split('\n');
    this.drawnFor = size;
    const [header = '', ...rest] = this.drawn;
    this.draw([this.style.header(header), ...rest].join('\n'));
  }

  /** The terminal's size now; when it changed since the last drawing, that drawing is erased as re-wrapped. */
  private fitToTerminal(): TerminalSize {
    const size = this.size();
    if (this.drawnFor && (size.columns !== this.drawnFor.columns || size.rows !== this.drawnFor.rows)) {
      this.eraseRewrapped(size.columns);
      this.drawnFor = size;
    }
    return size;
  }

  private size(): TerminalSize {
    let fresh: [number, number] | undefined;
    try {
      fresh = this.terminal.getWindowSize?.();
    } catch {
      fresh = undefined; // not a terminal any more (closed): the last known size
    }
    const [columns, rows] = fresh && fresh[0] > 0 ? fresh : [this.terminal.columns ?? 80, this.terminal.rows ?? Number.POSITIVE_INFINITY];
    return { columns, rows: rows > 0 ? rows : Number.POSITIVE_INFINITY };
  }

  /** SIGWINCH: draw for the new size (render notices the change, or already has on a timer tick). */
  private redrawAfterResize(): void {
    if (this.stopped || !this.started) return;
    this.render();
  }

  /**
   * log-update would erase as many rows as it drew, but a narrower terminal has re-wrapped the block into more
   * rows: the rest would stay on screen as a ghost header. Erase the rows the block takes at `columns`, and forget
   * the old drawing.
   */
  private eraseRewrapped(columns: number): void {
    // +1: the cursor's own (empty) row below the block.
    this.terminal.write(eraseLines(rowsAfterResize(this.drawn, columns) + 1));
    this.draw.done();
  }
}

/** ECMA-48: erase the cursor's row and the `count - 1` rows above it, leaving the cursor at the start of the top one. */
function eraseLines(count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += `\u001b[2K${i < count - 1 ? '\u001b[1A' : ''}`;
  return `${out}\u001b[G`;
}

/** Local wall-clock time `HH:MM:SS`: what the clock on the user's screen shows (the run id is local time too). */
export function localClock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Local date and time, `YYYY-MM-DD HH:MM:SS`, or just the time when it is today (`now`). */
export function localTime(ms: number, now: number): string {
  const d = new Date(ms);
  const day = (x: Date) => `${x.getFullYear()}-${String(x.getMonth() + 1).padStart(2, '0')}-${String(x.getDate()).padStart(2, '0')}`;
  return day(d) === day(new Date(now)) ? localClock(ms) : `${day(d)} ${localClock(ms)}`;
}

export interface Styler {
  header: (text: string) => string;
  finished: (status: ShownStatus, text: string) => string;
  level: (level: 'debug' | 'info' | 'warn' | 'error', text: string) => string;
}

/** SGR colours, or nothing at all when `color` is false (NO_COLOR, a pipe). */
export function styler(color: boolean): Styler {
  const sgr = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const statusColour: Record<ShownStatus, string> = { done: '32', failed: '31', needs_attention: '33', interrupted: '33', skipped: '2', pending: '0', blocked: '0', running: '0' };
  return {
    header: (text) => sgr('1', text),
    finished: (status, text) => sgr(statusColour[status], text),
    level: (level, text) => (level === 'error' ? sgr('31', text) : level === 'warn' ? sgr('33', text) : level === 'debug' ? sgr('2', text) : text),
  };
}

/** NO_COLOR (https://no-color.org): present and not empty turns colour off. */
export function wantsColor(env: NodeJS.ProcessEnv): boolean {
  return !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}
