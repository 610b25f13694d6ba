import path from 'node:path';
import { formatDuration } from '../report/tasks-md.js';
import { runTotals, type RunState } from '../state/run-state.js';
import { localTime, shownStatus } from './live-view.js';

/**
 * What a person reads when the run ends: outcome, per-task line, totals, where to look next. `now` (epoch ms) is
 * for local times; `takeCommand` is the command that takes a result left on the integration branch
 * (git/merge.ts takeResultCommand).
 */
export function summarizeRun(state: RunState, repoRoot: string, now: number = Date.now(), takeCommand?: string): string {
  const lines: string[] = ['', `Run ${state.runId}: ${state.status}`];
  for (const t of Object.values(state.tasks).sort((a, b) => a.id.localeCompare(b.id))) {
    const status = shownStatus(t.status, t.reason);
    const extra = t.status === 'done' ? (t.merged ? 'merged' : 'not merged') : status === 'interrupted' ? '' : t.reason ?? (t.status === 'pending' ? 'not run yet' : '');
    lines.push(`  ${t.id}  ${status.padEnd(15)} ${extra}`.trimEnd());
  }
  const totals = runTotals(state);
  lines.push(`Cost $${totals.costUsd.toFixed(4)} · tokens ${totals.usage.inputTokens} in / ${totals.usage.outputTokens} out · agent time ${formatDuration(totals.agentMs)}`);
  if (state.message) lines.push(`Stopped: ${state.message}`);
  if (state.integrationBranch) lines.push(`The merged result is on ${state.integrationBranch}; take it with: ${takeCommand ?? `git merge --ff-only --no-overwrite-ignore ${state.integrationBranch}`}`);
  lines.push(`Progress: ${path.join(repoRoot, 'TASKS.md')} · transcripts: ${path.join(repoRoot, state.logDir)}`);
  if (state.status === 'paused' && state.pause) lines.push(`Paused until ${localTime(Date.parse(state.pause.until), now)} (local time). Continue then with: orchestrate --resume`);
  const attention = Object.values(state.tasks).filter((t) => t.status === 'needs_attention').map((t) => t.id).sort();
  if (attention.length > 0) {
    // --resume would run them again from where they stopped; the findings are what a person needs first.
    const ids = attention.join(', ');
    const one = attention[0]!;
    lines.push(`${ids} need${attention.length === 1 ? 's' : ''} attention: orchestrate status shows the review findings, the failed checks and the command that continues the agent's session; then orchestrate accept ${one} (after fixing it by hand) or orchestrate retry ${one}`);
  }
  if (state.status === 'interrupted' || state.status === 'failed' || state.status === 'stopped') lines.push('Continue with: orchestrate --resume');
  else if (state.status === 'completed') {
    // `accept` and `retry` complete only their own task: what else the run still owes is easy to miss.
    const left = Object.values(state.tasks).filter((t) => t.status !== 'done' && t.status !== 'needs_attention').map((t) => `${t.id} (${shownStatus(t.status, t.reason)})`).sort();
    if (left.length > 0) lines.push(`Not done yet: ${left.join(', ')}. Continue with: orchestrate --resume`);
  }
  return `${lines.join('\n')}\n`;
}
