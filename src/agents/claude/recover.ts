import { existsSync, readFileSync } from 'node:fs';
import { STDERR_MARKER } from '../transcript.js';
import type { AgentRunResult } from '../types.js';
import { consumeLine, createStreamState, emptyUsage } from './events.js';
import { decideOutcome } from './outcome.js';

/**
 * The result of a run whose orchestrator died after the agent finished but before the result was recorded: read
 * back from the run's transcript (stream-json stdout lines, then `--- stderr ---`, as written by the adapter).
 * Returns the result only when the transcript ends in a successful `result` event (with `structured_output` when
 * `expectStructuredOutput`); anything else (no transcript, no result line, an error result) is undefined: the call
 * did not finish, so it has to be continued.
 */
export function recoverClaudeResult(transcriptPath: string, opts: { expectStructuredOutput: boolean }): AgentRunResult | undefined {
  if (!existsSync(transcriptPath)) return undefined;
  const state = createStreamState();
  for (const line of readFileSync(transcriptPath, 'utf8').split('\n')) {
    if (line === STDERR_MARKER) break;
    consumeLine(state, line);
  }
  const r = state.result;
  if (!r) return undefined;
  const outcome = decideOutcome({
    state,
    exitCode: 0,
    stderr: '',
    expectStructuredOutput: opts.expectStructuredOutput,
    killGraceMs: 0,
    commandLabel: 'claude',
    now: Date.now(),
  });
  if (!outcome.ok) return undefined;
  return {
    ok: true,
    sessionId: state.sessionId ?? r.sessionId,
    exitCode: 0,
    numTurns: r.numTurns ?? state.turns,
    costUsd: r.totalCostUsd ?? 0,
    usage: r.usage ?? emptyUsage(),
    durationMs: r.durationMs ?? 0,
    isError: false,
    ...(r.subtype !== undefined ? { subtype: r.subtype } : {}),
    ...(r.terminalReason !== undefined ? { terminalReason: r.terminalReason } : {}),
    permissionDenials: r.permissionDenials,
    ...(r.resultText !== undefined ? { resultText: r.resultText } : {}),
    ...(r.hasStructuredOutput ? { structuredOutput: r.structuredOutput } : {}),
    sandboxRefusals: state.sandboxRefusals,
    malformedLines: state.malformedLines,
  };
}
