import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { consumeLine, createStreamState, type StreamState } from '../../src/agents/claude/events.js';
import { decideOutcome, type Outcome, type OutcomeInput } from '../../src/agents/claude/outcome.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const FAKE_AGENT = fileURLToPath(new URL('../support/fake-agent.mjs', import.meta.url));

export function fixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}`, 'utf8');
}

/** Feeds a real transcript through the parser, line by line, as the adapter does. */
export function replay(name: string): StreamState {
  const state = createStreamState();
  for (const line of fixture(name).split('\n')) consumeLine(state, line);
  return state;
}

/** The outcome of a recorded run, with the exit code it really had. */
export function outcomeOf(name: string, input: Partial<OutcomeInput> & { exitCode: number | null }): Outcome {
  return decideOutcome({
    state: replay(name),
    stderr: '',
    expectStructuredOutput: false,
    killGraceMs: 5000,
    commandLabel: 'claude',
    now: Date.UTC(2026, 10, 23, 13, 0),
    ...input,
  });
}
