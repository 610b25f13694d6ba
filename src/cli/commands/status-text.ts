import path from 'node:path';
import { describeFailedCheck, describeFinding, type Attention } from '../../report/attention.js';
import { localDateTimeOf } from '../../report/local-time.js';
import { formatDuration } from '../../report/tasks-md.js';
import { describeBranchState } from './worktrees.js';
import type { LockView, StatusDocument, TaskView, TotalsView, WorktreeView } from './status-document.js';

/** `orchestrate status` for a person: written from the same document as --json, so the two never disagree. */
export function renderStatus(doc: StatusDocument): string {
  const lines = doc.run ? runLines(doc) : [`No run recorded in ${doc.repo} yet (no ${doc.stateFile}). Start one with: orchestrate`];
  if (doc.tasks.length > 0) lines.push('', 'Tasks', ...doc.tasks.flatMap(taskLines));
  if (doc.totals) lines.push('', totalsLine(doc.totals));
  lines.push('', ...worktreeLines(doc));
  return `${lines.join('\n')}\n`;
}

function runLines(doc: StatusDocument): string[] {
  const run = doc.run!;
  const lines = [`Run ${run.id}: ${run.status}`, `  started ${localDateTimeOf(run.startedAt)}${run.finishedAt ? ` · finished ${localDateTimeOf(run.finishedAt)}` : ` · updated ${localDateTimeOf(run.updatedAt)}`}`];
  lines.push(`  target branch ${run.targetBranch}`);
  lines.push(`  transcripts in ${path.resolve(doc.repo, run.logDir)}`);
  if (run.integrationBranch) lines.push(`  merged result on ${run.integrationBranch}; take it with: ${run.takeCommand ?? `git merge --ff-only --no-overwrite-ignore ${run.integrationBranch}`}`);
  if (doc.pause) lines.push(`  paused until ${localDateTimeOf(doc.pause.until)}: ${doc.pause.reason}`);
  if (run.message) lines.push(`  stopped: ${indent(run.message, '    ')}`);
  lines.push(...lockLines(doc.lock, run.status));
  return lines;
}

/** A "running" state with nobody holding the lock means the run died: say so, and how to go on. */
function lockLines(lock: LockView | null, status: string): string[] {
  if (lock && lock.alive !== false) {
    return [`  in progress: pid ${lock.pid} on ${lock.host}, since ${localDateTimeOf(lock.startedAt)}${lock.command ? ` (${lock.command})` : ''}`];
  }
  if (status === 'running') return ['  no process is running it any more (interrupted or crashed); continue with: orchestrate --resume'];
  return [];
}

function taskLines(t: TaskView): string[] {
  const head = `  ${t.id}  ${taskState(t).padEnd(22)} ${t.title}`;
  const facts = [
    `${t.branch}${t.shortCommit ? ` @ ${t.shortCommit}` : ''}`,
    `$${t.costUsd.toFixed(4)}`,
    `tokens ${t.tokens.input} in / ${t.tokens.output} out`,
    `${t.turns} turn${t.turns === 1 ? '' : 's'}`,
    ...(t.reviewRounds !== null ? [`${t.reviewRounds} review round${t.reviewRounds === 1 ? '' : 's'}${t.lastVerdict ? ` (${t.lastVerdict})` : ''}`] : []),
    ...(t.sandboxRefusals > 0 ? [`${t.sandboxRefusals} sandbox refusal${t.sandboxRefusals === 1 ? '' : 's'}`] : []),
    formatDuration(t.durationMs),
  ];
  const lines = [head, `      ${facts.join(' · ')}`];
  if (t.reason && t.status !== 'done') lines.push(`      reason: ${indent(t.reason, '        ')}`);
  if (t.acceptedAt) lines.push(`      accepted by hand ${localDateTimeOf(t.acceptedAt)}${t.merged ? '' : '; not merged yet: orchestrate --resume merges it'}`);
  if (t.attention) lines.push(...attentionLines(t.id, t.attention));
  return lines;
}

/** Most lines of a failed check's output shown here; the whole tail is in `status --json` and the state file. */
const OUTPUT_LINES = 12;

/** What the reviewer and the checks said, round by round, and how to go on: the lines a person acts on. */
function attentionLines(id: string, a: Attention): string[] {
  const lines: string[] = [];
  for (const r of a.rounds) {
    const verdict = r.verdict ? `review: ${r.verdict}${r.summary ? ` — ${oneLine(r.summary)}` : ''}` : r.failedChecks.length > 0 ? 'checks failed (no review)' : 'no review';
    lines.push(`      round ${r.round}: ${verdict}`);
    for (const f of r.findings) lines.push(`        ${describeFinding(f)}`);
    for (const c of r.failedChecks) {
      lines.push(`        check ${describeFailedCheck(c)}`);
      const tail = c.outputTail.trimEnd().split('\n').slice(-OUTPUT_LINES);
      if (tail.length > 0 && tail.some((l) => l.trim() !== '')) lines.push(...tail.map((l) => `          | ${l}`));
    }
  }
  lines.push(`      worktree:   ${a.worktree} (branch ${a.branch})`);
  if (a.transcript) lines.push(`      transcript: ${a.transcript}`);
  if (a.continueCommand) lines.push(`      continue the agent's session by hand: ${a.continueCommand}`);
  lines.push(`      then: orchestrate accept ${id} (merge your fix once its checks pass) or orchestrate retry ${id} (run the agent again with these findings)`);
  return lines;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function taskState(t: TaskView): string {
  if (t.status === 'done') return t.merged ? 'done, merged' : 'done, not merged';
  if (t.status === 'running' && t.phase) return `running (${t.phase})`;
  return t.status;
}

function totalsLine(t: TotalsView): string {
  const counts = Object.entries(t.byStatus)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  return `Total: ${t.tasks} task${t.tasks === 1 ? '' : 's'} (${counts || 'none'}) · $${t.costUsd.toFixed(4)} · tokens ${t.tokens.input} in / ${t.tokens.output} out · agent time ${formatDuration(t.agentMs)}`;
}

function worktreeLines(doc: StatusDocument): string[] {
  if (doc.worktrees.length === 0) return [`No worktrees under ${doc.worktreeDir}/.`];
  const width = Math.max(...doc.worktrees.map((w) => w.path.length));
  const lines = [`Worktrees under ${doc.worktreeDir}/`];
  // A run is live while a live process holds the run lock and the state says that run is running.
  const liveRun = doc.lock?.alive !== false && doc.lock && doc.run?.status === 'running' ? doc.run.id : null;
  for (const w of doc.worktrees) lines.push(`  ${w.path.padEnd(width)}  ${describeWorktree(w, doc.target, liveRun)}`);
  lines.push("  (orchestrate clean removes the merged ones; see 'orchestrate clean --help')");
  return lines;
}

function describeWorktree(w: WorktreeView, target: string | null, liveRun: string | null): string {
  const notes: string[] = [];
  switch (w.kind) {
    case 'merge':
      notes.push(`merge worktree (detached${w.head ? ` at ${w.head.slice(0, 7)}` : ''})`);
      break;
    case 'task':
    case 'integration':
      notes.push(w.branch!, describeBranchState(w, target));
      break;
    case 'other':
      notes.push(`${w.branch ?? `detached${w.head ? ` at ${w.head.slice(0, 7)}` : ''}`}, not the orchestrator's`);
      break;
    default: {
      const never: never = w.kind;
      notes.push(String(never));
    }
  }
  if (w.unreadable) notes.push(`git cannot read it (${w.unreadable}; git worktree repair ${w.path} rewrites its .git file)`);
  else if (w.dirty) notes.push('uncommitted changes');
  if (w.lockedBy) notes.push(`locked by run ${w.lockedBy.run}${w.lockedBy.run === liveRun ? ' (running)' : ' (not running: orchestrate clean unlocks it)'}`);
  else if (w.locked) notes.push(`locked${w.lockReason ? ` (${w.lockReason})` : ''}`);
  if (w.missing) notes.push('folder missing');
  return notes.join(' · ');
}

function indent(text: string, by: string): string {
  return text.trimEnd().replace(/\n/g, `\n${by}`);
}
