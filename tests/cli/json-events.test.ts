import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

type Event = { type: string; at: string; [key: string]: any };

const EVENT_TYPES = ['run_started', 'task_started', 'task_phase', 'agent_progress', 'task_cost', 'task_finished', 'stage_merged', 'resource_wait', 'paused', 'resumed', 'log', 'run_finished'];

const approve = { structuredOutput: { verdict: 'approve', summary: 'ok', findings: [] }, costUsd: 0.001 };
const requestChanges = { structuredOutput: { verdict: 'request_changes', summary: 'missing tests', findings: [{ severity: 'major', file: 'x', line: 1, message: 'add tests' }] }, costUsd: 0.002 };
const reviewOf = (id: string) => `reviewing the work done for milestone ${id}:`;
const work = (id: string, costUsd: number, extra: object = {}) => ({
  steps: [{ tool: 'Read', input: { file_path: 'README.md' } }, { write: `${id}-${costUsd}.txt`, content: `${id}\n` }],
  costUsd,
  ...extra,
});

/** Every stdout line is one JSON event with a type and an ISO time; nothing else is on stdout. */
function parseStream(stdout: string): Event[] {
  // (execa strips the final newline.)
  const lines = stdout.split('\n');
  return lines.map((line, i) => {
    let event: Event;
    try {
      event = JSON.parse(line) as Event;
    } catch {
      throw new Error(`stdout line ${i + 1} is not JSON: ${line}`);
    }
    expect(typeof event.type, line).toBe('string');
    expect(EVENT_TYPES, line).toContain(event.type);
    expect(event.at, line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Number.isNaN(Date.parse(event.at))).toBe(false);
    return event;
  });
}

/** Statuses and costs at the end: from the stream, the state file and `status --json` alike. */
async function expectStreamMatchesState(events: Event[], root: string, ids: string[]): Promise<void> {
  const state = readState(root);
  const status = await runCli(['status', '--json'], { cwd: root });
  expect(status.exitCode, status.stderr).toBe(0);
  const doc = JSON.parse(status.stdout);
  const finished = events.at(-1)!;
  expect(finished.type).toBe('run_finished');
  expect(finished.runId).toBe(state.runId);
  expect(finished.status).toBe(state.status);
  expect(doc.run.status).toBe(state.status);
  expect(finished.costUsd).toBeCloseTo(doc.totals.costUsd, 10);
  expect(finished.usage.outputTokens).toBe(doc.totals.tokens.output);
  expect(finished.usage.inputTokens).toBe(doc.totals.tokens.input);
  for (const id of ids) {
    const ends = events.filter((e) => e.type === 'task_finished' && e.id === id);
    expect(ends, `one task_finished for ${id}`).toHaveLength(1);
    const end = ends[0]!;
    const inDoc = doc.tasks.find((t: { id: string }) => t.id === id);
    expect(end.status).toBe(state.tasks[id].status);
    expect(end.status).toBe(inDoc.status);
    expect(end.costUsd).toBeCloseTo(state.tasks[id].costUsd, 10);
    expect(end.costUsd).toBeCloseTo(inDoc.costUsd, 10);
    expect(end.turns).toBe(inDoc.turns);
    expect(end.usage.outputTokens).toBe(inDoc.tokens.output);
  }
}

describe('orchestrate --json', () => {
  it('streams one event per line, every task started and finished, run_finished last, matching the state', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B'), '2A': milestone('2A', { deps: ['1A'] }) },
      {
        rules: [
          { match: reviewOf('1A'), runs: [requestChanges, approve] },
          { match: reviewOf('1B'), run: approve },
          { match: reviewOf('2A'), run: approve },
          { match: 'milestone 1A:', runs: [work('1A', 0.01), work('1A', 0.02)] },
          { match: 'milestone 1B:', run: work('1B', 0.03) },
          { match: 'milestone 2A:', run: work('2A', 0.04) },
        ],
      },
      { review: { enabled: true, max_rounds: 2 }, checks: { commands: ['true'] } },
    );
    cleanup = repo.cleanup;
    const result = await runCli(['--json'], { cwd: repo.root, env: repo.env });
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stderr).toBe(0);
    const events = parseStream(result.stdout);

    // run_started before any task; run_finished exactly once, last.
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'run_finished')).toHaveLength(1);
    expect(types.at(-1)).toBe('run_finished');
    const startIndex = types.indexOf('run_started');
    expect(startIndex).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('task_started')).toBeGreaterThan(startIndex);
    expect(events[startIndex]).toMatchObject({ resumed: false, tasks: ['1A', '1B', '2A'], maxParallel: 2, targetBranch: 'main' });

    for (const id of ['1A', '1B', '2A']) {
      const startedAt = events.findIndex((e) => e.type === 'task_started' && e.id === id);
      const finishedAt = events.findIndex((e) => e.type === 'task_finished' && e.id === id);
      expect(startedAt, `task_started ${id}`).toBeGreaterThan(-1);
      expect(events.filter((e) => e.type === 'task_started' && e.id === id)).toHaveLength(1);
      expect(finishedAt, `task_finished ${id} after its start`).toBeGreaterThan(startedAt);
      expect(events[startedAt]).toMatchObject({ stage: Number(id[0]), title: `Task ${id}` });
      expect(events[finishedAt]).toMatchObject({ status: 'done' });
    }
    // The phases as they happen, with the review rounds; the agent's progress; the costs; the merges.
    const phases1A = events.filter((e) => e.type === 'task_phase' && e.id === '1A').map((e) => `${e.phase}${e.round ? ` ${e.round}` : ''}`);
    expect(phases1A).toEqual(['setup', 'agent', 'commit', 'checks 1', 'review 1', 'agent', 'commit', 'checks 2', 'review 2']);
    expect(events.some((e) => e.type === 'agent_progress' && e.id === '1B' && e.purpose === 'agent' && e.lastTool === 'Read')).toBe(true);
    expect(events.some((e) => e.type === 'agent_progress' && e.id === '1B' && e.purpose === 'review')).toBe(true);
    expect(events.filter((e) => e.type === 'task_cost' && e.id === '1A').map((e) => e.costUsd)).toHaveLength(4);
    expect(events.filter((e) => e.type === 'stage_merged').map((e) => [e.stage, e.merged])).toEqual([
      [1, ['1A', '1B']],
      [2, ['2A']],
    ]);
    // Log lines come as log events (and on stderr); the human summary is on stderr only.
    expect(events.some((e) => e.type === 'log' && e.level === 'info' && /^stage 1: merged 1A, 1B/.test(e.message))).toBe(true);
    expect(result.stderr).toMatch(/\d\d:\d\d:\d\d stage 1: merged 1A, 1B/);
    expect(result.stderr).toMatch(/Run \S+: completed/);
    expect(result.stdout).not.toMatch(/Run \S+: completed/);

    await expectStreamMatchesState(events, repo.root, ['1A', '1B', '2A']);
    expect(events.at(-1)!.costUsd).toBeCloseTo(0.01 + 0.02 + 0.03 + 0.04 + 0.002 + 0.001 * 3, 10);
  });

  it('reports failed and skipped tasks (a skipped task never starts) and the run ending as in the state file', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B'), '2A': milestone('2A') },
      {
        rules: [
          { match: 'milestone 1A:', run: { result: 'error', resultText: 'the build is broken', costUsd: 0.05 } },
          { match: 'milestone 1B:', run: work('1B', 0.03) },
        ],
      },
      { retry_attempts: 0 },
    );
    cleanup = repo.cleanup;
    const result = await runCli(['--json'], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stderr).toBe(1);
    const events = parseStream(result.stdout);
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'stopped' });
    const failed = events.find((e) => e.type === 'task_finished' && e.id === '1A')!;
    expect(failed).toMatchObject({ status: 'failed' });
    expect(failed.reason).toMatch(/the build is broken/);
    expect(events.some((e) => e.type === 'task_started' && e.id === '2A')).toBe(false);
    expect(events.find((e) => e.type === 'task_finished' && e.id === '2A')).toMatchObject({ status: 'skipped' });
    expect(events.find((e) => e.type === 'stage_merged')).toMatchObject({ stage: 1, merged: ['1B'] });
    expect(result.stderr).toMatch(/orchestrate --resume/);
    await expectStreamMatchesState(events, repo.root, ['1A', '1B', '2A']);
  });

  it('keeps stdout empty when the run cannot start: invalid input is reported on stderr with exit 2', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A', { deps: ['1B'] }) }, {});
    cleanup = repo.cleanup;
    const invalid = await runCli(['--json'], { cwd: repo.root, env: repo.env });
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stdout).toBe('');
    expect(invalid.stderr).toMatch(/1B/);

    // With --validate-only, --json is the plan document (tests/cli/plan-json.test.ts): invalid, and still JSON.
    const withValidate = await runCli(['--json', '--validate-only'], { cwd: repo.root, env: repo.env });
    expect(withValidate.exitCode).toBe(2);
    expect(JSON.parse(withValidate.stdout)).toMatchObject({ valid: false });
    expect(withValidate.stderr).toMatch(/1B/);

    const misplaced = await runCli(['--json', 'status'], { cwd: repo.root, env: repo.env });
    expect(misplaced.exitCode).toBe(2);
    expect(misplaced.stderr).toMatch(/orchestrate status --json/);
  });

  it('says "nothing to run" on stderr, not in the event stream', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { default: work('1A', 0.01) });
    cleanup = repo.cleanup;
    expect((await runCli([], { cwd: repo.root, env: repo.env })).exitCode).toBe(0);
    const again = await runCli(['--json'], { cwd: repo.root, env: repo.env });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/Nothing to run/);
  });
});
