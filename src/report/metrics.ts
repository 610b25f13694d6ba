import { createRedactor, redactStrings } from '../agents/redact.js';
import type { ResourceMetrics } from '../monitor/index.js';
import { writeFileAtomic } from '../state/atomic.js';
import { runTotals, type RunState } from '../state/run-state.js';

/** `logs/metrics.json`: the figures of TASKS.md for machines, plus the resource monitor's samples. */
export function renderMetrics(state: RunState, resources: ResourceMetrics | undefined): string {
  const totals = runTotals(state);
  const doc = {
    schemaVersion: 1,
    runId: state.runId,
    status: state.status,
    startedAt: state.startedAt,
    updatedAt: state.updatedAt,
    finishedAt: state.finishedAt ?? null,
    totals: { costUsd: totals.costUsd, tokens: totals.usage, agentTimeMs: totals.agentMs },
    tasks: Object.values(state.tasks)
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((t) => ({
        id: t.id,
        stage: t.stage,
        status: t.status,
        costUsd: t.costUsd,
        tokens: t.usage,
        turns: t.turns,
        attempts: t.attempts,
        durationMs: t.durationMs,
        startedAt: t.startedAt ?? null,
        finishedAt: t.finishedAt ?? null,
        reviewRounds: t.rounds?.length ?? 0,
        verdicts: (t.rounds ?? []).map((r) => r.verdict ?? (r.checks.some((c) => !c.ok) ? 'checks_failed' : null)),
        merged: t.merged ?? false,
        commit: t.headSha ?? null,
      })),
    resources: resources ?? null,
  };
  return `${JSON.stringify(redactStrings(doc, createRedactor(process.env)), null, 2)}\n`;
}

export async function writeMetrics(file: string, state: RunState, resources: ResourceMetrics | undefined): Promise<void> {
  await writeFileAtomic(file, renderMetrics(state, resources));
}
