import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { RunState, TaskRecord } from '../state/run-state.js';
import { runTotals } from '../state/run-state.js';
import { writeFileAtomic } from '../state/atomic.js';

/** Found by this prefix, so a block written with another wording of the comment is still replaced. */
const BEGIN_PREFIX = '<!-- milestone-orchestrator:begin';
export const BEGIN_MARKER = `${BEGIN_PREFIX} (generated; edits inside this block are overwritten) -->`;
export const END_MARKER = '<!-- milestone-orchestrator:end -->';

/** The generated block, markers included. Pure. */
export function renderTasksBlock(state: RunState): string {
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
  if (state.pause) lines.push(`Paused until ${state.pause.until}: ${state.pause.reason}`, '');
  if (state.resourceWait) lines.push(`Holding ${state.resourceWait.task} since ${state.resourceWait.since}: ${state.resourceWait.reasons.join('; ')}`, '');
  if (state.message) lines.push(`> ${state.message.replace(/\n/g, ' ')}`, '');
  for (const stage of state.stages) {
    const tasks = all.filter((t) => t.stage === stage.stage).sort((a, b) => a.id.localeCompare(b.id));
    lines.push(`### Stage ${stage.stage} — ${stage.status}${stage.note ? ` (${stage.note})` : ''}`, '');
    lines.push('| Task | Title | Status | Rounds | Checks | Cost | Tokens (in/out) | Turns | Duration | Branch | Commit |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const t of tasks) lines.push(taskRow(t));
    lines.push('');
  }
  const gantt = renderGantt(state);
  if (gantt) lines.push(gantt, '');
  lines.push(`_Updated ${state.updatedAt}_`, '', END_MARKER);
  return lines.join('\n');
}

/** A Mermaid Gantt chart of the run (GitHub renders it): one bar per task that has started, per stage. */
export function renderGantt(state: RunState): string | undefined {
  const started = Object.values(state.tasks).filter((t) => t.startedAt);
  if (started.length === 0) return undefined;
  const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const lines = ['```mermaid', 'gantt', `  title Run ${state.runId}`, '  dateFormat X', '  axisFormat %H:%M:%S'];
  for (const stage of state.stages) {
    const tasks = started.filter((t) => t.stage === stage.stage).sort((a, b) => a.id.localeCompare(b.id));
    if (tasks.length === 0) continue;
    lines.push(`  section Stage ${stage.stage}`);
    for (const t of tasks) {
      const start = seconds(t.startedAt!);
      const end = Math.max(start + 1, seconds(t.status === 'running' ? state.updatedAt : (t.finishedAt ?? state.updatedAt)));
      lines.push(`  ${ganttLabel(`${t.id} ${t.title}`)} :${ganttTag(t)}t${t.id}, ${start}, ${end}`);
    }
  }
  lines.push('```');
  return lines.join('\n');
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

function roundsCell(t: TaskRecord): string {
  const rounds = t.rounds ?? [];
  const last = rounds.at(-1);
  if (!last) return '—';
  return `${rounds.length}${last.verdict ? ` (${last.verdict})` : ''}`;
}

function checksCell(t: TaskRecord): string {
  const last = t.rounds?.at(-1);
  if (!last || last.checks.length === 0) return '—';
  const passed = last.checks.filter((c) => c.ok).length;
  return `${passed}/${last.checks.length} ${passed === last.checks.length ? 'passed' : 'passed, failing: ' + last.checks.filter((c) => !c.ok).map((c) => `\`${c.command}\``).join(', ')}`;
}

function taskRow(t: TaskRecord): string {
  const status = `${statusIcon(t)} ${t.status}${t.phase && t.status === 'running' ? ` (${t.phase})` : ''}${t.reason && t.status !== 'done' ? `: ${t.reason}` : ''}`;
  return `| ${t.id} | ${cell(t.title)} | ${cell(status)} | ${roundsCell(t)} | ${cell(checksCell(t))} | $${t.costUsd.toFixed(4)} | ${t.usage.inputTokens}/${t.usage.outputTokens} | ${t.turns} | ${formatDuration(t.durationMs)} | \`${t.branch}\` | ${t.headSha ? `\`${t.headSha.slice(0, 7)}\`` : '—'} |`;
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
  if (ms <= 0) return '—';
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

/** `tmpDir` keeps the temporary file out of the user's working tree (the state folder). */
export async function writeTasksMd(file: string, state: RunState, tmpDir?: string): Promise<void> {
  const current = existsSync(file) ? await readFile(file, 'utf8') : '';
  const next = spliceBlock(current, renderTasksBlock(state));
  if (next !== current) await writeFileAtomic(file, next, tmpDir ? { tmpDir } : {});
}
