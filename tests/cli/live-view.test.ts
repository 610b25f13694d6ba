import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import {
  displayWidth,
  emptyView,
  finishedLine,
  fit,
  formatElapsed,
  LiveView,
  reduceView,
  renderLiveView,
  showAboveBlock,
  type ViewModel,
} from '../../src/cli/live-view.js';
import { chooseOutputMode, createRunOutput } from '../../src/cli/output.js';
import type { RunEvent } from '../../src/run/events.js';

const T0 = Date.parse('2025-01-01T12:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const usage = (input: number, output: number) => ({ inputTokens: input, outputTokens: output, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 });

function view(events: RunEvent[]): ViewModel {
  return events.reduce(reduceView, emptyView());
}

const started: RunEvent[] = [
  { type: 'run_started', at: at(0), runId: 'r1', resumed: false, tasks: ['1A', '1B', '2A'], maxParallel: 2, targetBranch: 'main' },
  { type: 'task_started', at: at(1), id: '1A', stage: 1, title: 'Parser' },
  { type: 'task_started', at: at(2), id: '1B', stage: 1, title: 'Lexer' },
];

/** The lines of the block, trailing spaces aside. */
function lines(model: ViewModel, seconds: number, width = 200): string[] {
  return renderLiveView(model, T0 + seconds * 1000, width).split('\n');
}

describe('the live view: reducer and renderer', () => {
  it('shows the header (stage k of n, tasks done/total, cost, tokens, elapsed) and a line per running task', () => {
    const m = view([
      ...started,
      { type: 'task_phase', at: at(3), id: '1A', phase: 'agent' },
      { type: 'agent_progress', at: at(4), id: '1A', purpose: 'agent', turns: 3, lastTool: 'Bash', costUsd: 0.0123, outputTokens: 1500 },
    ]);
    const out = lines(m, 65);
    expect(out[0]).toBe('orchestrate · stage 1 of 2 · 0/3 tasks done · $0.0123 · 1.5k tokens · 1m 05s');
    expect(out[1]).toMatch(/^ {2}1A\s+agent\s+1m 04s\s+3 turns\s+1\.5k tok\s+\$0\.0123\s+Bash\s+Parser$/);
    expect(out[2]).toMatch(/^ {2}1B\s+starting\s+1m 03s\s+0 turns\s+0 tok\s+\$0\.0000\s+-\s+Lexer$/);
    expect(out).toHaveLength(3);
  });

  it('names every phase: set-up, agent, commit, checks, review round k, fixing round k, checks round k, merge', () => {
    const phaseOf = (events: RunEvent[]) => lines(view([...started, ...events]), 10)[1]!.slice(6, 22).trim();
    expect(phaseOf([{ type: 'task_phase', at: at(3), id: '1A', phase: 'setup' }])).toBe('set-up');
    expect(phaseOf([{ type: 'task_phase', at: at(3), id: '1A', phase: 'agent' }])).toBe('agent');
    expect(phaseOf([{ type: 'task_phase', at: at(3), id: '1A', phase: 'commit' }])).toBe('commit');
    expect(phaseOf([{ type: 'task_phase', at: at(3), id: '1A', phase: 'checks', round: 1 }])).toBe('checks');
    const round1 = [
      { type: 'task_phase', at: at(3), id: '1A', phase: 'checks', round: 1 },
      { type: 'task_phase', at: at(4), id: '1A', phase: 'review', round: 1 },
    ] as RunEvent[];
    expect(phaseOf(round1)).toBe('review round 1');
    // request_changes: the worker fixes round 1's findings, then round 2 runs.
    const fixing = [...round1, { type: 'task_phase', at: at(5), id: '1A', phase: 'agent' }] as RunEvent[];
    expect(phaseOf(fixing)).toBe('fixing round 1');
    expect(phaseOf([...fixing, { type: 'task_phase', at: at(6), id: '1A', phase: 'checks', round: 2 }])).toBe('checks round 2');
    expect(phaseOf([...fixing, { type: 'task_phase', at: at(6), id: '1A', phase: 'checks', round: 2 }, { type: 'task_phase', at: at(7), id: '1A', phase: 'review', round: 2 }])).toBe('review round 2');
    expect(phaseOf([{ type: 'task_phase', at: at(3), id: '1A', phase: 'merge' }])).toBe('merge');
  });

  it('adds the agent call in flight to the booked totals until its task_cost arrives', () => {
    const m = view([
      ...started,
      { type: 'task_cost', at: at(3), id: '1A', costUsd: 0.5, usage: usage(1000, 2000), turns: 4 },
      { type: 'agent_progress', at: at(4), id: '1A', purpose: 'review', turns: 2, lastTool: 'Read', costUsd: 0.25, outputTokens: 500 },
    ]);
    expect(lines(m, 5)[1]).toMatch(/6 turns\s+3\.5k tok\s+\$0\.7500\s+Read/);
    expect(lines(m, 5)[0]).toContain('$0.7500 · 3.5k tokens');
    const booked = reduceView(m, { type: 'task_cost', at: at(6), id: '1A', costUsd: 0.75, usage: usage(1200, 2500), turns: 6 });
    expect(lines(booked, 7)[1]).toMatch(/6 turns\s+3\.7k tok\s+\$0\.7500/);
  });

  it('moves finished tasks out of the block and counts them; skipped and failed are named in the header', () => {
    const m = view([
      ...started,
      { type: 'task_finished', at: at(30), id: '1A', status: 'done', costUsd: 0.1, usage: usage(10, 20), turns: 5, durationMs: 29_000 },
      { type: 'task_finished', at: at(31), id: '1B', status: 'failed', reason: 'agent error', costUsd: 0.2, usage: usage(10, 20), turns: 2, durationMs: 29_000 },
      { type: 'task_finished', at: at(31), id: '2A', status: 'skipped', reason: 'dependency 1B failed', costUsd: 0, usage: usage(0, 0), turns: 0, durationMs: 0 },
    ]);
    const out = lines(m, 40);
    expect(out).toHaveLength(1);
    // 1A is done and every task of stage 1 settled: its merge comes next.
    expect(out[0]).toBe('orchestrate · stage 1 of 2 (merging) · 1/3 tasks done (1 failed, 1 skipped) · $0.3000 · 60 tokens · 40s');
  });

  it('shows merging between a stage\'s last task and its merge, then the next stage', () => {
    let m = view([...started, { type: 'task_finished', at: at(30), id: '1A', status: 'done', costUsd: 0, usage: usage(0, 0), turns: 1, durationMs: 1 }]);
    expect(lines(m, 31)[0]).toContain('stage 1 of 2 ·');
    m = reduceView(m, { type: 'task_finished', at: at(31), id: '1B', status: 'done', costUsd: 0, usage: usage(0, 0), turns: 1, durationMs: 1 });
    expect(lines(m, 32)[0]).toContain('stage 1 of 2 (merging)');
    m = reduceView(m, { type: 'stage_merged', at: at(33), stage: 1, sha: 'abc', branch: 'main', merged: ['1A', '1B'] });
    expect(lines(m, 34)[0]).not.toContain('merging');
    m = reduceView(m, { type: 'task_started', at: at(35), id: '2A', stage: 2, title: 'CLI' });
    expect(lines(m, 36)[0]).toContain('stage 2 of 2 · 2/3 tasks done');
  });

  it('shows a conflict-resolution agent as a merge line of its task', () => {
    let m = view([...started, { type: 'task_finished', at: at(30), id: '1B', status: 'done', costUsd: 0.1, usage: usage(0, 0), turns: 1, durationMs: 1 }]);
    m = reduceView(m, { type: 'agent_progress', at: at(40), id: '1B', purpose: 'resolve', turns: 2, lastTool: 'Edit' });
    expect(lines(m, 45).find((l) => l.includes('1B'))).toMatch(/^ {2}1B\s+merge \(conflict\)\s+5s\s+3 turns.*Edit\s+Lexer$/);
    m = reduceView(m, { type: 'stage_merged', at: at(50), stage: 1, sha: 'abc', branch: 'main', merged: ['1B'] });
    expect(lines(m, 51).some((l) => l.includes('1B'))).toBe(false);
  });

  it('counts a pause down to its end, and drops it when the run resumes', () => {
    const m = view([...started, { type: 'paused', at: at(10), until: at(10 + 250), reason: '1A: usage_limit: limit reached' }]);
    expect(lines(m, 10)[1]).toBe('paused, resuming in 4m 10s: 1A: usage_limit: limit reached');
    expect(lines(m, 200)[1]).toBe('paused, resuming in 1m 00s: 1A: usage_limit: limit reached');
    expect(lines(m, 300)[1]).toBe('paused, resuming now: 1A: usage_limit: limit reached');
    const resumed = reduceView(m, { type: 'resumed', at: at(260) });
    expect(lines(resumed, 261).some((l) => l.startsWith('paused'))).toBe(false);
  });

  it('shows why the resource gate holds a task, for how long, until the task starts', () => {
    let m = view([...started.slice(0, 2), { type: 'resource_wait', at: at(5), id: '1B', reasons: ['load 3.2 >= 2', 'free memory 200 MB < 512 MB'] }]);
    m = reduceView(m, { type: 'resource_wait', at: at(8), id: '1B', reasons: ['load 3.0 >= 2'] });
    expect(lines(m, 17)[1]).toBe('holding 1B for 12s: waiting for resources (load 3.0 >= 2)');
    m = reduceView(m, { type: 'task_started', at: at(20), id: '1B', stage: 1, title: 'Lexer' });
    expect(lines(m, 21).some((l) => l.startsWith('holding'))).toBe(false);
  });

  it('freezes the clock and the totals at run_finished', () => {
    const m = view([
      ...started,
      { type: 'task_finished', at: at(30), id: '1A', status: 'done', costUsd: 0.1, usage: usage(10, 20), turns: 5, durationMs: 29_000 },
      { type: 'task_finished', at: at(31), id: '1B', status: 'done', costUsd: 0.1, usage: usage(10, 20), turns: 5, durationMs: 29_000 },
      { type: 'stage_merged', at: at(32), stage: 1, sha: 'abc', branch: 'main', merged: ['1A', '1B'] },
      { type: 'run_finished', at: at(90), runId: 'r1', status: 'stopped', costUsd: 0.2, usage: usage(20, 40), message: 'stopped by the user' },
    ]);
    expect(lines(m, 500)).toEqual(['orchestrate stopped · stage 1 of 2 · 2/3 tasks done · $0.2000 · 60 tokens · 1m 30s — stopped by the user']);
  });

  it('cuts every line to the width, wide characters and newlines included', () => {
    const m = view([
      { type: 'run_started', at: at(0), runId: 'r1', resumed: false, tasks: ['1A'], maxParallel: 1, targetBranch: 'main' },
      { type: 'task_started', at: at(1), id: '1A', stage: 1, title: '日本語のとても長いタイトル with\nnewline and more words' },
      { type: 'paused', at: at(2), until: at(100), reason: 'a very long reason '.repeat(10) },
    ]);
    for (const width of [20, 40, 79]) {
      const out = renderLiveView(m, T0 + 5000, width).split('\n');
      expect(out).toHaveLength(3);
      for (const line of out) {
        expect(displayWidth(line), line).toBeLessThanOrEqual(width);
        expect(line).not.toMatch(/\n/);
      }
      expect(out[2]!.endsWith('…')).toBe(true);
      if (width < 60) expect(out[0]!.endsWith('…')).toBe(true);
    }
    expect(fit('short', 10)).toBe('short');
    expect(fit('exactly10!', 10)).toBe('exactly10!');
    expect(fit('eleven chars', 10)).toBe('eleven ch…');
    expect(fit('日本語日本語', 7)).toBe('日本語…');
  });

  it('ignores events it does not know and does not change the model it was given', () => {
    const before = view(started);
    const copy = structuredClone(before);
    reduceView(before, { type: 'task_phase', at: at(3), id: '1A', phase: 'review', round: 2 });
    reduceView(before, { type: 'stage_merged', at: at(3), stage: 1, sha: 'x', branch: 'main', merged: [] });
    reduceView(before, { type: 'run_finished', at: at(3), runId: 'r1', status: 'completed', costUsd: 0, usage: usage(0, 0) });
    expect(before).toEqual(copy);
    expect(reduceView(before, { type: 'something_new', at: at(4) } as unknown as RunEvent)).toBe(before);
  });

  it('prints a finished task above the block in one line', () => {
    expect(finishedLine({ type: 'task_finished', at: at(1), id: '1A', status: 'done', costUsd: 0.0123, usage: usage(1, 1), turns: 12, durationMs: 65_000 })).toBe('✔ 1A done (1m 05s, 12 turns, $0.0123)');
    expect(finishedLine({ type: 'task_finished', at: at(1), id: '1B', status: 'needs_attention', reason: 'not approved\nafter 3 rounds', costUsd: 1, usage: usage(1, 1), turns: 1, durationMs: 5_000 })).toBe(
      '✖ 1B needs attention (5s, 1 turn, $1.0000): not approved ⏎ after 3 rounds',
    );
    expect(finishedLine({ type: 'task_finished', at: at(1), id: '2A', status: 'skipped', reason: 'dependency 1B failed', costUsd: 0, usage: usage(0, 0), turns: 0, durationMs: 0 })).toBe('- 2A skipped: dependency 1B failed');
  });

  it('prints warnings, errors and the run-level info lines above the block, not per-task chatter', () => {
    expect(showAboveBlock('warn', '[1A] merge conflict in a.txt')).toBe(true);
    expect(showAboveBlock('error', 'could not save run state')).toBe(true);
    expect(showAboveBlock('info', 'stage 1: merged 1A, 1B into main (abc1234)')).toBe(true);
    expect(showAboveBlock('info', 'pause over: resuming')).toBe(true);
    expect(showAboveBlock('info', '[1A] round 1: review: request_changes (missing tests)')).toBe(true);
    expect(showAboveBlock('info', '[1A] agent started (attempt 1)')).toBe(false);
    expect(showAboveBlock('info', '[1A] check `npm test` passed')).toBe(false);
    expect(showAboveBlock('info', 'holding 1C: load 3 >= 2')).toBe(false);
    expect(showAboveBlock('info', 'paused: resuming in 60s (at …)')).toBe(false);
    expect(showAboveBlock('debug', 'anything')).toBe(false);
  });

  it('formats durations', () => {
    expect(formatElapsed(0)).toBe('0s');
    expect(formatElapsed(59_999)).toBe('59s');
    expect(formatElapsed(65_000)).toBe('1m 05s');
    expect(formatElapsed(3_723_000)).toBe('1h 02m');
    expect(formatElapsed(-5)).toBe('0s');
  });
});

describe('the live view shell', () => {
  it('draws the block on events, prints lines above it, and leaves the final block on screen', () => {
    const out = new PassThrough();
    let written = '';
    out.on('data', (d: Buffer) => (written += d.toString()));
    const terminal = Object.assign(out, { columns: 100, isTTY: true });
    let now = T0 + 5000;
    const live = new LiveView(terminal, () => now);
    for (const e of started) live.event(e);
    live.print((t) => terminal.write(t), 'a warning above\n');
    now += 3000;
    live.event({ type: 'task_finished', at: at(8), id: '1A', status: 'done', costUsd: 0, usage: usage(0, 0), turns: 1, durationMs: 7000 });
    live.event({ type: 'run_finished', at: at(9), runId: 'r1', status: 'completed', costUsd: 0, usage: usage(0, 0) });
    live.stop();
    const plain = written.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    expect(plain).toContain('a warning above\n');
    expect(plain).toMatch(/\d\d:\d\d:\d\d ✔ 1A done/);
    expect(plain).toContain('1B  starting');
    expect(plain.trimEnd().split('\n').at(-1)).toMatch(/^orchestrate completed · stage 1 of 2 · 1\/3 tasks done/);
    // After stop, nothing redraws.
    const length = written.length;
    live.event({ type: 'resumed', at: at(10) });
    expect(written.length).toBe(length);
  });
});

describe('choosing the output', () => {
  it('is json with --json, live on a terminal, plain in a pipe, in CI or on a dumb terminal', () => {
    expect(chooseOutputMode({ json: true, isTTY: true, env: {} })).toBe('json');
    expect(chooseOutputMode({ json: false, isTTY: true, env: {} })).toBe('live');
    expect(chooseOutputMode({ json: false, isTTY: true, env: { CI: 'false' } })).toBe('live');
    expect(chooseOutputMode({ json: false, isTTY: true, env: { CI: 'true' } })).toBe('plain');
    expect(chooseOutputMode({ json: false, isTTY: true, env: { CI: '1' } })).toBe('plain');
    expect(chooseOutputMode({ json: false, isTTY: true, env: { TERM: 'dumb' } })).toBe('plain');
    expect(chooseOutputMode({ json: false, isTTY: false, env: {} })).toBe('plain');
  });

  it('json: one redacted line per event, log lines as log events and on stderr, nothing after run_finished', () => {
    let stdout = '';
    let stderr = '';
    const secret = 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz';
    const output = createRunOutput({ json: true, io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { ANTHROPIC_API_KEY: secret, MY_SERVICE_TOKEN: 'tok-1234567890' } } });
    output.echo('info', 'run r1: 1 task(s) on main');
    output.onEvent!({ type: 'task_finished', at: at(1), id: '1A', status: 'failed', reason: `bad key ${secret} tok-1234567890 "quoted"`, costUsd: 0, usage: usage(0, 0), turns: 0, durationMs: 0 });
    output.echo('debug', 'not shown');
    output.onEvent!({ type: 'run_finished', at: at(2), runId: 'r1', status: 'failed', costUsd: 0, usage: usage(0, 0) });
    output.echo('warn', 'after the end');
    output.finish();
    const events = stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toEqual(['log', 'task_finished', 'run_finished']);
    expect(events[0]).toMatchObject({ level: 'info', message: 'run r1: 1 task(s) on main' });
    expect(events[1].reason).not.toContain(secret);
    expect(events[1].reason).not.toContain('tok-1234567890');
    expect(events[1].reason).toContain('"quoted"');
    expect(stderr).toMatch(/^\d\d:\d\d:\d\d run r1: 1 task\(s\) on main\n\d\d:\d\d:\d\d after the end\n$/);
  });

  it('json: a run the engine ended without run_finished gets one from the final state', () => {
    let stdout = '';
    const output = createRunOutput({ json: true, io: { stdout: (t) => (stdout += t), stderr: () => undefined, env: {} } });
    output.onEvent!({ type: 'run_started', at: at(0), runId: 'r1', resumed: true, tasks: [], maxParallel: 1, targetBranch: 'main' });
    const task = { costUsd: 0.5, usage: usage(1, 2), durationMs: 10 };
    output.finish({ runId: 'r1', status: 'stopped', message: 'merge failed', finishedAt: at(5), tasks: { '1A': task } } as never);
    output.finish({ runId: 'r1', status: 'stopped', tasks: {} } as never);
    const events = stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(events.at(-1)).toEqual({ type: 'run_finished', at: at(5), runId: 'r1', status: 'stopped', costUsd: 0.5, usage: usage(1, 2), message: 'merge failed' });
    expect(events).toHaveLength(2);
  });

  it('plain: the timestamped lines as always, info on stdout, warnings and errors on stderr, no events', () => {
    let stdout = '';
    let stderr = '';
    const output = createRunOutput({ json: false, io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { CI: 'true' } }, terminal: Object.assign(new PassThrough(), { isTTY: true }) });
    expect(output.mode).toBe('plain');
    expect(output.onEvent).toBeUndefined();
    output.echo('info', 'stage 1: merged 1A');
    output.echo('warn', 'careful');
    output.echo('debug', 'hidden');
    expect(stdout).toMatch(/^\d\d:\d\d:\d\d stage 1: merged 1A\n$/);
    expect(stderr).toMatch(/^\d\d:\d\d:\d\d careful\n$/);
  });
});
