import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentAdapter, AgentRunRequest, AgentRunResult } from '../../src/agents/types.js';
import { loadConfig } from '../../src/config/load.js';
import { inspectRepo } from '../../src/git/repo.js';
import { loadMilestones } from '../../src/milestones/load.js';
import { buildPlan } from '../../src/plan/index.js';
import type { Logger } from '../../src/report/logger.js';
import type { Clock } from '../../src/run/clock.js';
import { executeRun, type RunRequest } from '../../src/run/engine.js';
import type { RunEvent } from '../../src/run/events.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

// The engine in this process: real git in a temporary repository, a scripted agent adapter (no agent processes),
// so what the recorder writes and what it emits can be compared event by event.

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, file: undefined, close: async () => undefined };

/**
 * Each call writes the milestone's file and commits it, costs $0.25 and 1000 output tokens, and reports a session;
 * `before` may answer a call instead (a usage limit).
 */
function scriptedAdapter(before?: (req: AgentRunRequest, n: number) => AgentRunResult | undefined): AgentAdapter & { calls: AgentRunRequest[] } {
  const calls: AgentRunRequest[] = [];
  return {
    name: 'scripted',
    calls,
    preflight: async () => ({ ok: true }) as never,
    run: async (req): Promise<AgentRunResult> => {
      calls.push(req);
      const answer = before?.(req, calls.length);
      if (answer) return answer;
      const id = /milestone (\d+[A-Z]+)/.exec(req.prompt)?.[1] ?? 'unknown';
      const sessionId = `session-${id}-${calls.length}`;
      req.onProgress?.({ sessionId, turns: 1 });
      writeFileSync(path.join(req.cwd, `${id}.txt`), `${id}\n`);
      execFileSync('git', ['add', '-A'], { cwd: req.cwd });
      execFileSync('git', ['-c', 'user.name=Agent', '-c', 'user.email=agent@example.com', 'commit', '-qm', `${id}: work`], { cwd: req.cwd });
      const usage = { inputTokens: 10, outputTokens: 1000, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
      return { ok: true, sessionId, exitCode: 0, numTurns: 2, costUsd: 0.25, usage, durationMs: 5, isError: false, permissionDenials: [], malformedLines: 0 };
    },
  };
}

describe('the engine in process', () => {
  it('the state it saves, the state it returns and the events it emits tell the same story', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A'), '1B': milestone('1B'), '2A': milestone('2A', { deps: ['1A'] }) }, {}, { git: { hooks: false } });
    cleanup = repo.cleanup;
    const { repo: info } = await inspectRepo(repo.root);
    const { config } = await loadConfig({ repoRoot: repo.root, env: {} });
    const { milestones } = await loadMilestones({ repoRoot: repo.root, milestonesDir: config.milestones_dir });
    const plan = buildPlan(milestones);
    const adapter = scriptedAdapter();
    const events: RunEvent[] = [];
    const end = await executeRun({
      repo: info!,
      config,
      milestones,
      plan,
      selected: ['1A', '1B', '2A'],
      carriedOver: [],
      adapter,
      logger: quiet,
      signal: new AbortController().signal,
      command: 'orchestrate',
      onEvent: (e) => events.push(e),
    });

    expect(end.kind).toBe('finished');
    if (end.kind !== 'finished') return;
    const state = end.state;
    expect(state.status).toBe('completed');
    expect(adapter.calls).toHaveLength(3);
    // What the recorder holds is what it saved last (only the save time differs) and what it returns, frozen.
    const { updatedAt: _saved, ...onDisk } = readState(repo.root);
    const { updatedAt: _held, ...returned } = state;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(returned)));
    expect(Object.isFrozen(state.tasks['1A'])).toBe(true);

    for (const id of ['1A', '1B', '2A']) {
      const rec = state.tasks[id]!;
      expect(rec).toMatchObject({ status: 'done', merged: true, attempts: 1, costUsd: 0.25, turns: 2, sessionId: expect.stringMatching(`session-${id}-`) });
      expect(rec.transcripts).toHaveLength(1);
      expect(rec.phase).toBeUndefined();
      const mine = events.filter((e) => 'id' in e && e.id === id).map((e) => e.type);
      // Started, then its phases, its cost once, and finished last.
      expect(mine[0]).toBe('task_started');
      expect(mine.at(-1)).toBe('task_finished');
      expect(mine.filter((t) => t === 'task_cost')).toHaveLength(1);
      expect(mine).toContain('task_phase');
      const finished = events.find((e) => e.type === 'task_finished' && e.id === id);
      expect(finished).toMatchObject({ status: 'done', costUsd: rec.costUsd, turns: rec.turns, usage: rec.usage });
    }
    const stages = events.filter((e) => e.type === 'stage_merged');
    expect(stages.map((e) => (e.type === 'stage_merged' ? [e.stage, e.merged] : []))).toEqual([
      [1, ['1A', '1B']],
      [2, ['2A']],
    ]);
    // Stage 2 started from stage 1's merged result, which is on the target now.
    expect(state.stages[1]!.baseSha).toBe(state.stages[0]!.mergedSha);
    expect(repo.git('rev-parse', 'main')).toBe(state.stages[1]!.mergedSha);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: 'run_finished', status: 'completed', costUsd: 0.75 });
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toMatch(/2A[^\n]*done/);
  });

  it('waits out an hour-long usage limit on the injected clock, then continues the same session', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, {}, { git: { hooks: false } });
    cleanup = repo.cleanup;
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    let now = start;
    const clock: Clock = {
      now: () => now,
      sleep: async (ms, signal) => {
        signal.throwIfAborted();
        now += ms;
        await new Promise((r) => setImmediate(r));
      },
    };
    const resetsAt = start + 3_600_000;
    const adapter = scriptedAdapter((req, n) => {
      if (n !== 1) return undefined;
      req.onProgress?.({ sessionId: 'limited-session', turns: 1 });
      const usage = { inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
      return { ok: false, failure: { kind: 'usage_limit', message: 'limit reached' }, resetsAt, sessionId: 'limited-session', exitCode: 1, numTurns: 1, costUsd: 0.01, usage, durationMs: 1, isError: true, permissionDenials: [], malformedLines: 0 };
    });
    const events: RunEvent[] = [];
    const end = await executeRun({ ...(await request(repo.root, ['1A'], adapter)), clock, onEvent: (e) => events.push(e) });

    expect(end.kind === 'finished' && end.state.status).toBe('completed');
    expect(adapter.calls).toHaveLength(2);
    expect(adapter.calls[1]!.resumeSessionId).toBe('limited-session');
    expect(now).toBeGreaterThanOrEqual(resetsAt);
    const pause = events.filter((e) => e.type === 'paused' || e.type === 'resumed').map((e) => e.type);
    expect(pause).toEqual(['paused', 'resumed']);
    expect(events.find((e) => e.type === 'paused')).toMatchObject({ until: new Date(resetsAt + 5_000).toISOString() });
    const state = readState(repo.root);
    expect(state.pause).toBeUndefined();
    expect(state.tasks['1A']).toMatchObject({ status: 'done', attempts: 2, costUsd: 0.26 });
    // Times come from the injected clock: the task started at its start and ended after the reset; so do the events.
    expect(state.tasks['1A'].startedAt).toBe(new Date(start).toISOString());
    expect(Date.parse(state.tasks['1A'].finishedAt)).toBeGreaterThanOrEqual(resetsAt);
    expect(Date.parse(state.finishedAt)).toBeGreaterThanOrEqual(resetsAt);
    expect(Date.parse(events.find((e) => e.type === 'resumed')!.at)).toBeGreaterThanOrEqual(resetsAt);
  });

  it('an exception thrown inside one task (its agent adapter) fails that task with the message; the others finish, the run ends saved, no lock is left', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A'), '1B': milestone('1B') }, {}, { git: { hooks: false } });
    cleanup = repo.cleanup;
    const adapter = scriptedAdapter((req) => {
      if (/milestone 1A/.test(req.prompt)) throw new TypeError("Cannot read properties of undefined (reading 'x')");
      return undefined;
    });
    const end = await executeRun(await request(repo.root, ['1A', '1B'], adapter));

    expect(end.kind).toBe('finished');
    const state = readState(repo.root);
    // Ended as any stage with a failed task ends (on_failure: stop after the stage), not left "running".
    expect(state).toMatchObject({ status: 'stopped', message: 'stage 1 had failures: 1A failed' });
    expect(state.finishedAt).toEqual(expect.any(String));
    expect(state.tasks['1A']).toMatchObject({ status: 'failed', reason: expect.stringMatching(/internal error.*Cannot read properties of undefined \(reading 'x'\)/) });
    expect(state.tasks['1B']).toMatchObject({ status: 'done' });
    expect(repo.git('worktree', 'list', '--porcelain')).not.toMatch(/^locked/m);
    // The journal says how the task ended, not "interrupted": a resume must not take it for a cut-off attempt.
    const journal = readFileSync(path.join(repo.root, '.orchestrator', 'journal.ndjson'), 'utf8');
    expect(journal).toMatch(/"t":"task_end","status":"failed","reason":"internal error[^"]*Cannot read/);
  });

  it('after an idle-timeout stop the continued session is told which tool made no progress, for how long, and not to repeat it as is', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, {}, { git: { hooks: false }, agent: { idle_timeout: 90 } });
    cleanup = repo.cleanup;
    const clock: Clock = { now: () => Date.now(), sleep: async () => undefined };
    const adapter = scriptedAdapter((req, n) => {
      if (n !== 1) return undefined;
      req.onProgress?.({ sessionId: 'hung-session', turns: 1, lastTool: 'Read' });
      req.onProgress?.({ sessionId: 'hung-session', turns: 2, lastTool: 'Bash' });
      const usage = { inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
      return { ok: false, failure: { kind: 'idle_timeout', message: 'The agent printed nothing for 1m 30s' }, sessionId: 'hung-session', exitCode: 143, numTurns: 2, costUsd: 0.01, usage, durationMs: 1, isError: true, permissionDenials: [], malformedLines: 0 };
    });
    const end = await executeRun({ ...(await request(repo.root, ['1A'], adapter)), clock });

    expect(end.kind === 'finished' && end.state.status).toBe('completed');
    expect(adapter.calls).toHaveLength(2);
    expect(adapter.calls[1]!.resumeSessionId).toBe('hung-session');
    const prompt = adapter.calls[1]!.prompt;
    expect(prompt).toMatch(/your last tool call \(Bash\) made no progress \(no output, no CPU use, no file change in the worktree\) for 1 min 30s and was stopped/);
    expect(prompt).toMatch(/Do not repeat that call as it was/);
  });
});

/** A run request for `ids` of the repository at `root`, loaded as the CLI loads it. */
async function request(root: string, ids: string[], adapter: AgentAdapter): Promise<RunRequest> {
  const { repo } = await inspectRepo(root);
  const { config } = await loadConfig({ repoRoot: root, env: {} });
  const { milestones } = await loadMilestones({ repoRoot: root, milestonesDir: config.milestones_dir });
  return { repo: repo!, config, milestones, plan: buildPlan(milestones), selected: ids, carriedOver: [], adapter, logger: quiet, signal: new AbortController().signal, command: 'orchestrate' };
}
