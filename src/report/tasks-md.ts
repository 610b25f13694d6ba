import { createRedactor } from '../agents/redact.js';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { error, type Diagnostic } from '../diagnostics.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunState, TaskRecord } from '../state/run-state.js';
import { runTotals } from '../state/run-state.js';
import { writeFileAtomic } from '../state/atomic.js';
import { localDateTimeOf } from './local-time.js';
import { attentionOf, describeFailedCheck, findingPlace, needsAction } from './attention.js';

/** Found by this prefix, so a block written with another wording of the comment is still replaced. */
const BEGIN_PREFIX = '<!-- milestone-orchestrator:begin';
export const BEGIN_MARKER = `${BEGIN_PREFIX} (generated; edits inside this block are overwritten) -->`;
export const END_MARKER = '<!-- milestone-orchestrator:end -->';

/** The generated block, markers included. Pure. */
export function renderTasksBlock(state: RunState, repoRoot = '.'): string {
  const lines: string[] = [BEGIN_MARKER, '', `## Progress — run ${state.runId}`, ''];
  const totals = runTotals(state);
  const all = Object.values(state.tasks);
  const done = all.filter((t) => t.status === 'done').length;
  lines.push(
    `Status: **${state.status}** · ${done}/${all.length} tasks done · cost $${totals.costUsd.toFixed(4)} · ` +
      `tokens ${totals.usage.inputTokens} in / ${totals.usage.outputTokens} out · target \`${state.targetBranch}\`` +
      (state.integrationBranch ? ` (merged result on \`${state.integrationBranch}\`)` : ''),
    '',
  );
  if (state.pause) lines.push(`Paused until ${localDateTimeOf(state.pause.until)}: ${state.pause.reason}`, '');
  if (state.resourceWait) lines.push(`Holding ${state.resourceWait.task} since ${localDateTimeOf(state.resourceWait.since)}: ${state.resourceWait.reasons.join('; ')}`, '');
  if (state.message) lines.push(`> ${state.message.replace(/\n/g, ' ')}`, '');
  for (const stage of state.stages) {
    const tasks = all.filter((t) => t.stage === stage.stage).sort((a, b) => a.id.localeCompare(b.id));
    lines.push(`### Stage ${stage.stage} — ${stage.status}${stage.note ? ` (${cell(stage.note)})` : ''}`, '');
    lines.push('| Task | Title | Status | Rounds | Cost | Time |');
    lines.push('|---|---|---|---|---|---|');
    for (const t of tasks) lines.push(taskRow(t));
    const notes = tasks.flatMap((t) => taskNotes(t, repoRoot));
    if (notes.length > 0) lines.push('', ...notes);
    lines.push('');
  }
  const gantt = renderGantt(state);
  if (gantt) lines.push(gantt, '');
  lines.push(`_Updated ${localDateTimeOf(state.updatedAt)}_`, '', END_MARKER);
  return lines.join('\n');
}

/** Minutes a task is drawn with in the chart before it starts, when its record has no estimate (the planner's default). */
const DEFAULT_ESTIMATE_MINUTES = 60;

/**
 * A Mermaid Gantt chart of the run (GitHub renders it): per stage, one bar per task, from its real start to its
 * end (or to the last update while it runs). Tasks not started yet are drawn where they are expected to run: from
 * the end of the stage before (or now), as long as their estimate. Times are Unix milliseconds (`dateFormat x`):
 * Mermaid reads `X` as seconds but parses its value like a millisecond count, which put every bar in January 1970.
 */
export function renderGantt(state: RunState): string | undefined {
  const tasks = Object.values(state.tasks);
  if (!tasks.some((t) => t.startedAt)) return undefined;
  const updated = Date.parse(state.updatedAt);
  const lines = ['```mermaid', 'gantt', `  title Run ${state.runId}`, '  dateFormat x', '  axisFormat %H:%M'];
  let stageEnd = Date.parse(state.startedAt);
  for (const stage of state.stages) {
    const inStage = tasks.filter((t) => t.stage === stage.stage && (t.startedAt || waiting(t))).sort((a, b) => a.id.localeCompare(b.id));
    if (inStage.length === 0) continue;
    const plannedStart = Math.max(stageEnd, updated);
    lines.push(`  section Stage ${stage.stage}${stage.status === 'pending' ? ' (pending)' : ''}`);
    let end = stageEnd;
    for (const t of inStage) {
      const bar = ganttBar(t, plannedStart, updated);
      end = Math.max(end, bar.end);
      lines.push(`  ${ganttLabel(`${t.id} ${t.title}`)} :${ganttTag(t)}t${t.id}, ${bar.start}, ${bar.end}`);
    }
    stageEnd = end;
  }
  lines.push('```');
  return lines.join('\n');
}

/** Not started yet, and still to run (a failed or skipped task that never started gets no bar). */
function waiting(t: TaskRecord): boolean {
  return t.status === 'pending' || t.status === 'blocked';
}

/** Start and end in epoch ms; at least a second long so Mermaid draws it. */
function ganttBar(t: TaskRecord, plannedStart: number, updated: number): { start: number; end: number } {
  if (!t.startedAt) {
    const minutes = t.estimateMinutes ?? DEFAULT_ESTIMATE_MINUTES;
    return { start: plannedStart, end: plannedStart + minutes * 60_000 };
  }
  const start = Date.parse(t.startedAt);
  const finished = t.status === 'running' || !t.finishedAt ? updated : Date.parse(t.finishedAt);
  return { start, end: Math.max(start + 1000, finished) };
}

function ganttTag(t: TaskRecord): string {
  switch (t.status) {
    case 'done':
      return 'done, ';
    case 'running':
      return 'active, ';
    case 'failed':
    case 'needs_attention':
      return 'crit, ';
    case 'pending':
    case 'blocked':
    case 'skipped':
      return '';
    default: {
      const never: never = t.status;
      return String(never);
    }
  }
}

/** Mermaid ends a task name at `:` and treats `#` and `;` specially. */
function ganttLabel(text: string): string {
  return text.replace(/[:#;]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 60);
}

const EMPTY = '—';

function roundsCell(t: TaskRecord): string {
  const rounds = Array.isArray(t.rounds) ? t.rounds : [];
  const last = rounds.at(-1);
  if (!last) return EMPTY;
  return `${rounds.length}${last.verdict ? ` (${last.verdict})` : last.checks.some((c) => !c.ok) ? ' (checks failed)' : ''}`;
}

/** A task that never ran an agent has no cost to show, not a cost of zero. */
function costCell(t: TaskRecord): string {
  return t.attempts > 0 || t.costUsd > 0 ? `$${t.costUsd.toFixed(4)}` : EMPTY;
}

function taskRow(t: TaskRecord): string {
  const phase = t.phase && t.status === 'running' ? ` (${t.phase})` : '';
  const accepted = t.accepted && t.status === 'done' ? ' (accepted by hand)' : '';
  const status = `${statusIcon(t)} ${t.status.replace('_', ' ')}${phase}${accepted}${refusals(t)}`;
  return `| ${t.id} | ${cell(t.title)} | ${status} | ${roundsCell(t)} | ${costCell(t)} | ${formatDuration(t.durationMs)} |`;
}

/**
 * The list under a stage's table: why a task is not done, what each review round asked for, which checks failed,
 * and how to go on. Markdown list items, so long text wraps instead of widening the table.
 */
function taskNotes(t: TaskRecord, repoRoot: string): string[] {
  if (t.status === 'done' || t.status === 'running' || (t.status === 'pending' && !t.reason)) return [];
  const lines = [`- **${t.id}** ${statusIcon(t)} ${t.status.replace('_', ' ')}${t.reason ? `: ${inline(t.reason)}` : ''}`];
  if (!needsAction(t)) return lines;
  const a = attentionOf(t, repoRoot);
  for (const r of a.rounds) {
    const verdict = r.verdict ? `review ${r.verdict}${r.summary ? ` — ${inline(r.summary)}` : ''}` : r.failedChecks.length > 0 ? 'checks failed' : 'no review';
    lines.push(`  - round ${r.round}: ${verdict}`);
    for (const f of r.findings) {
      const place = findingPlace(f);
      lines.push(`    - ${f.severity}${place ? ` \`${place}\`` : ''}: ${inline(f.message)}`);
    }
    for (const c of r.failedChecks) lines.push(`    - check ${describeFailedCheck(c)}`);
  }
  lines.push(`  - worktree \`${a.worktree}\` (branch \`${a.branch}\`)${a.transcript ? `, transcript \`${a.transcript}\`` : ''}`);
  if (a.continueCommand) lines.push(`  - continue the agent's session by hand: \`${a.continueCommand}\``);
  lines.push(`  - then \`orchestrate accept ${t.id}\` (merge your fix once its checks pass) or \`orchestrate retry ${t.id}\` (run the agent again with these findings)`);
  return lines;
}

function inline(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, ' ').trim();
}

/** Sandbox refusals are tool errors the agent saw, not failures: noted after the status, only when there were any. */
function refusals(t: TaskRecord): string {
  const n = t.sandboxRefusals ?? 0;
  return n > 0 ? ` · ${n} sandbox refusal${n === 1 ? '' : 's'}` : '';
}

function statusIcon(t: TaskRecord): string {
  switch (t.status) {
    case 'done':
      return t.merged ? '✅' : '☑️';
    case 'running':
      return '🔄';
    case 'failed':
      return '❌';
    case 'needs_attention':
      return '⚠️';
    case 'skipped':
      return '⏭️';
    case 'blocked':
    case 'pending':
      return '⏳';
    default: {
      const never: never = t.status;
      return String(never);
    }
  }
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function formatDuration(ms: number): string {
  if (ms <= 0) return EMPTY;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/**
 * Puts the block into the document: replaces the existing block, or appends one. Everything outside the
 * markers stays byte for byte, line endings included.
 */
export function spliceBlock(document: string, block: string): string {
  const begin = document.indexOf(BEGIN_PREFIX);
  const end = document.indexOf(END_MARKER);
  const eol = document.includes('\r\n') ? '\r\n' : '\n';
  const body = block.replace(/\n/g, eol);
  if (begin !== -1 && end > begin) return document.slice(0, begin) + body + document.slice(end + END_MARKER.length);
  if (document.length === 0) return `# Tasks${eol}${eol}${body}${eol}`;
  const sep = document.endsWith(eol) ? eol : `${eol}${eol}`;
  return `${document}${sep}${body}${eol}`;
}

/**
 * `tmpDir` keeps the temporary file out of the user's working tree (the state folder); `repoRoot` makes the
 * worktree paths in the notes absolute (default: the folder of `file`).
 */
export async function writeTasksMd(file: string, state: RunState, tmpDir?: string, repoRoot = path.dirname(file)): Promise<void> {
  // A link or a folder is never replaced (the run refuses to start on one: tasksMdProblem); nothing is written then.
  if (tasksMdKind(file) !== 'file' && tasksMdKind(file) !== 'missing') return;
  const current = existsSync(file) ? await readFile(file, 'utf8') : '';
  // Only the generated block is redacted: everything outside the markers stays byte for byte.
  const next = spliceBlock(current, createRedactor(process.env)(renderTasksBlock(state, repoRoot)));
  if (next !== current) await writeFileAtomic(file, next, tmpDir ? { tmpDir } : {});
}

type TasksMdKind = 'missing' | 'file' | 'link' | 'folder' | 'other';

function tasksMdKind(file: string): TasksMdKind {
  try {
    const st = lstatSync(file);
    return st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
  } catch {
    return 'missing';
  }
}

/**
 * Why the run cannot keep its progress in `<repoRoot>/TASKS.md`, as an error diagnostic, or undefined when it can
 * (a regular file, or none yet). A symbolic link is refused rather than replaced by a file (the committed link
 * would then show as the user's change and hold the target branch back) or written through (it may lead out of
 * the repository); a folder or another kind of file cannot hold the block. Reads only `lstat`. `inGit` (from
 * `pathInGit`) picks the hint that works: `git rm` and `git mv` fail on a path git does not track.
 */
export function tasksMdProblem(repoRoot: string, inGit: 'committed' | 'staged' | 'untracked' = 'committed'): Diagnostic | undefined {
  const file = path.join(repoRoot, 'TASKS.md');
  const kind = tasksMdKind(file);
  switch (kind) {
    case 'missing':
    case 'file':
      return undefined;
    case 'link':
      return error('tasks-md-not-a-file', `TASKS.md is a symbolic link (to ${linkTarget(file)}); the orchestrator writes its progress block into TASKS.md and neither replaces a link nor writes through one`, {
        file: 'TASKS.md',
        hint: `remove the link (${removeCommand(inGit)}) or replace it with a copy of the file it points to, then run again; the file the link points to is never touched`,
      });
    case 'folder':
    case 'other':
      return error('tasks-md-not-a-file', `TASKS.md is ${kind === 'folder' ? 'a folder' : 'not a regular file'}; the orchestrator writes its progress block into a file of that name`, {
        file: 'TASKS.md',
        hint: `rename or move it (${moveCommand(inGit)}), then run again`,
      });
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** Removes TASKS.md itself (a link: never what it points to), and commits that when the link was committed. */
function removeCommand(inGit: 'committed' | 'staged' | 'untracked'): string {
  switch (inGit) {
    case 'committed':
      return 'git rm TASKS.md && git commit -m "Remove the TASKS.md link" -- TASKS.md';
    case 'staged':
      return 'git rm -f TASKS.md';
    case 'untracked':
      return 'rm TASKS.md';
    default: {
      const never: never = inGit;
      return never;
    }
  }
}

function moveCommand(inGit: 'committed' | 'staged' | 'untracked'): string {
  return inGit === 'untracked' ? 'mv TASKS.md <new name>' : 'git mv TASKS.md <new name>';
}

function linkTarget(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    return 'somewhere unreadable';
  }
}
