import { describe, expect, it, vi } from 'vitest';
import { PassThrough } from 'node:stream';
import {
  displayWidth,
  localClock,
  notification,
  rowsAfterResize,
  styler,
  wantsColor,
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
import { chooseOutputMode, createRunOutput, shownAt } from '../../src/cli/output.js';
import { summarizeRun } from '../../src/cli/summary.js';
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
  it('counts a task a resumed run carried over as done when its merge books a conflict resolution to it', () => {
    const m = view([
      { type: 'run_started', at: at(0), runId: 'r1', resumed: true, tasks: ['1A', '2A'], maxParallel: 2, targetBranch: 'main' },
      { type: 'task_started', at: at(1), id: '1A', stage: 1, title: 'Parser' },
      { type: 'task_finished', at: at(2), id: '1A', status: 'done', costUsd: 0.5, usage: usage(10, 5), turns: 3, durationMs: 1000 },
      { type: 'agent_progress', at: at(3), id: '1C', purpose: 'resolve', turns: 1 },
      { type: 'task_cost', at: at(4), id: '1C', costUsd: 0.25, usage: usage(10, 5), turns: 2 },
    ]);
    expect(m.tasks['1C']?.status).toBe('done');
    expect(lines(m, 5)[0]).toContain('2/3 tasks done');
  });

  it('shows the header (stage k of n, tasks done/total, cost, tokens, elapsed) and a line per running task', () => {
    const m = view([
      ...started,
      { type: 'task_phase', at: at(3), id: '1A', phase: 'agent' },
      { type: 'agent_progress', at: at(4), id: '1A', purpose: 'agent', turns: 3, lastTool: 'Bash', costUsd: 0.0123, outputTokens: 1500 },
    ]);
    const out = lines(m, 65);
    expect(out[0]).toBe('orchestrate · stage 1 of 2 · 0/3 tasks done · $0.0123 · 1.5k tokens · 1m 05s');
    expect(out[1]).toMatch(/^ {2}1A {2}Parser {2}agent\s+1m 04s\s+3 turns\s+1\.5k tok\s+\$0\.0123\s+Bash$/);
    expect(out[2]).toMatch(/^ {2}1B {2}Lexer {3}starting\s+1m 03s\s+0 turns\s+0 tok\s+\$0\.0000\s+-$/);
    expect(out).toHaveLength(3);
  });

  it('names every phase: set-up, agent, commit, checks, review round k, fixing round k, checks round k, merge', () => {
    const phaseOf = (events: RunEvent[]) => lines(view([...started, ...events]), 10)[1]!.slice(14).split(/\s{2,}/)[0];
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
    expect(lines(m, 45).find((l) => l.includes('1B'))).toMatch(/^ {2}1B {2}Lexer\s+merge \(conflict\)\s+5s\s+3 turns.*Edit$/);
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
      // The title is cut, the phase after it stays.
      expect(out[2]).toMatch(/^ {2}1A {2}[^…]*…\s+starting/);
      if (width < 30) expect(out[0]!.endsWith('…')).toBe(true);
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
      '! 1B needs attention (5s, 1 turn, $1.0000): not approved ⏎ after 3 rounds',
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
    expect(plain).toMatch(/1B {2}Lexer\s+starting/);
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

describe('the live view at the width and height it gets', () => {
  const busy = view([
    { type: 'run_started', at: at(0), runId: 'r1', resumed: false, tasks: ['1A', '1B', '1C', '2A'], maxParallel: 3, targetBranch: 'main' },
    { type: 'task_started', at: at(1), id: '1A', stage: 1, title: 'Word counting library with a streaming tokenizer' },
    { type: 'task_started', at: at(2), id: '1B', stage: 1, title: 'Project skeleton' },
    { type: 'task_started', at: at(2), id: '1C', stage: 1, title: 'CLI' },
    { type: 'task_phase', at: at(3), id: '1A', phase: 'review', round: 2 },
    { type: 'agent_progress', at: at(4), id: '1A', purpose: 'review', turns: 13, lastTool: 'Bash', costUsd: 1.2345, outputTokens: 123_456 },
  ]);

  it('at 80 columns: the whole header with its elapsed time, titles first and readable, the tool column dropped', () => {
    const out = renderLiveView(busy, T0 + 3_725_000, 80).split('\n');
    expect(out[0]).toBe('orchestrate · stage 1 of 2 · 0/4 tasks done · $1.2345 · 123k tokens · 1h 02m');
    expect(out[1]).toMatch(/^ {2}1A {2}Word counting librar… {2}review round 2 {2}1h 02m {2}13 turns {2}123k tok {2}\$1\.2345$/);
    expect(out[2]).toMatch(/^ {2}1B {2}Project skeleton\s+starting\s+1h 02m\s+0 turns\s+0 tok\s+\$0\.0000$/);
    for (const line of out) expect(displayWidth(line)).toBeLessThanOrEqual(80);
    // Columns line up.
    expect(out[1]!.indexOf('review')).toBe(out[2]!.indexOf('starting'));
  });

  it('drops columns by priority as the terminal narrows, and the header keeps its elapsed time', () => {
    const at60 = renderLiveView(busy, T0 + 65_000, 60).split('\n');
    expect(at60[0]).toBe('orchestrate · stage 1 of 2 · 0/4 tasks done · 1m 05s');
    expect(at60[1]).toMatch(/^ {2}1A {2}Word counting librar… {2}review round 2 {2}1m 04s {2}\$1\.2345$/);
    const at40 = renderLiveView(busy, T0 + 65_000, 40).split('\n');
    expect(at40[0]).toBe('orchestrate · 0/4 tasks done · 1m 05s');
    expect(at40[3]).toBe('  1C  CLI                 starting');
    const wide = renderLiveView(busy, T0 + 65_000, 200).split('\n');
    expect(wide[1]).toMatch(/Word counting library with a streaming tokenizer {2}review round 2 .* {2}Bash$/);
  });

  it('keeps the header on a short terminal and counts the running tasks that do not fit', () => {
    const out = renderLiveView(busy, T0 + 65_000, 80, 4).split('\n');
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^orchestrate · stage 1 of 2/);
    expect(out[1]).toMatch(/^ {2}1A /);
    expect(out[2]).toBe('  … and 2 more running');
  });

  it('hides the agent CLI\'s own tools: StructuredOutput is not work', () => {
    const m = reduceView(busy, { type: 'agent_progress', at: at(5), id: '1A', purpose: 'review', turns: 14, lastTool: 'StructuredOutput' });
    expect(renderLiveView(m, T0 + 6000, 200).split('\n')[1]).toMatch(/ {2}Bash$/);
  });

  it("the reviewer's row shows the reviewer's own tools, never the worker's last one", () => {
    const tool = (m: ViewModel) => renderLiveView(m, T0 + 9000, 200).split('\n')[1]!.trimEnd().split(/\s{2,}/).at(-1);
    const worked = view([...started, { type: 'task_phase', at: at(3), id: '1A', phase: 'agent' }, { type: 'agent_progress', at: at(4), id: '1A', purpose: 'agent', turns: 5, lastTool: 'Edit' }]);
    expect(tool(worked)).toBe('Edit');
    const reviewing = reduceView(worked, { type: 'task_phase', at: at(5), id: '1A', phase: 'review', round: 1 });
    expect(tool(reviewing)).toBe('-');
    // The reviewer's first progress report, before it used a tool (or only the hidden StructuredOutput).
    const noTool = reduceView(reviewing, { type: 'agent_progress', at: at(6), id: '1A', purpose: 'review', turns: 1 });
    expect(tool(noTool)).toBe('-');
    expect(tool(reduceView(noTool, { type: 'agent_progress', at: at(7), id: '1A', purpose: 'review', turns: 2, lastTool: 'Grep' }))).toBe('Grep');
    // A late report of another agent call does not carry its tool into this one's row either.
    const late = reduceView(worked, { type: 'agent_progress', at: at(6), id: '1A', purpose: 'review', turns: 1 });
    expect(tool(late)).toBe('-');
  });

  it('says 1 turn and 1 task, and shows an interrupted task as interrupted, not failed', () => {
    const m = view([
      { type: 'run_started', at: at(0), runId: 'r1', resumed: false, tasks: ['1A'], maxParallel: 1, targetBranch: 'main' },
      { type: 'task_started', at: at(1), id: '1A', stage: 1, title: 'Parser' },
      { type: 'agent_progress', at: at(2), id: '1A', purpose: 'agent', turns: 1 },
    ]);
    const out = renderLiveView(m, T0 + 3000, 200).split('\n');
    expect(out[0]).toContain('0/1 task done');
    expect(out[1]).toMatch(/ 1 turn /);
    const stopped = { type: 'task_finished', at: at(4), id: '1A', status: 'failed', reason: 'interrupted', costUsd: 0, usage: usage(0, 0), turns: 1, durationMs: 3000 } as const;
    expect(finishedLine(stopped)).toBe('■ 1A interrupted (3s, 1 turn, $0.0000)');
    expect(renderLiveView(reduceView(m, stopped), T0 + 5000, 200)).toContain('0/1 task done (1 interrupted)');
    const state = { runId: 'r1', status: 'interrupted', logDir: 'logs', tasks: { '1A': { id: '1A', status: 'failed', reason: 'interrupted', costUsd: 0, usage: usage(0, 0), durationMs: 1 } } };
    expect(summarizeRun(state as never, '/repo')).toMatch(/\n {2}1A {2}interrupted\n/);
  });

  it('erases the block as the terminal re-wrapped it after a resize', () => {
    expect(rowsAfterResize(['x'.repeat(80), 'y'.repeat(30)], 80)).toBe(2);
    expect(rowsAfterResize(['x'.repeat(80), 'y'.repeat(30)], 40)).toBe(3);
    expect(rowsAfterResize(['x'.repeat(80), ''], 30)).toBe(4);
    expect(rowsAfterResize(['日本語'.repeat(10)], 20)).toBe(3);
  });
});

describe('colour, time and notifications', () => {
  it('colours only when asked; NO_COLOR (set, not empty) turns it off', () => {
    expect(wantsColor({})).toBe(true);
    expect(wantsColor({ NO_COLOR: '1' })).toBe(false);
    expect(wantsColor({ NO_COLOR: '' })).toBe(true);
    expect(styler(true).finished('done', '✔ 1A done')).toBe('\u001b[32m✔ 1A done\u001b[0m');
    expect(styler(true).header('orchestrate')).toBe('\u001b[1morchestrate\u001b[0m');
    expect(styler(false).finished('failed', '✖ 1A failed')).toBe('✖ 1A failed');
    expect(styler(false).level('error', 'x')).toBe('x');
  });

  it('prints local wall-clock time', () => {
    const d = new Date(2025, 0, 2, 3, 4, 5);
    expect(localClock(d.getTime())).toBe('03:04:05');
  });

  it('a notification is an OSC 9 message and a bell, with no control character of the message inside', () => {
    expect(notification('orchestrate: 1A needs attention')).toBe('\u001b]9;orchestrate: 1A needs attention\u0007\u0007');
    expect(notification('a\u0007b\u001bc\nd')).toBe('\u001b]9;a b c d\u0007\u0007');
  });
});

function fakeTerminal(columns: number, rows = 40) {
  const out = new PassThrough();
  let written = '';
  out.on('data', (d: Buffer) => (written += d.toString()));
  const terminal = Object.assign(out, { columns, rows, isTTY: true });
  return { terminal, written: () => written, reset: () => (written = '') };
}

describe('the live view shell: colour, notifications, resize', () => {
  it('colours the header and finished lines, and notifies when a task needs attention and when the run ends', () => {
    const t = fakeTerminal(100);
    const live = new LiveView(t.terminal, { now: () => T0 + 5000, color: true, notify: true });
    for (const e of started) live.event(e);
    live.event({ type: 'task_finished', at: at(8), id: '1A', status: 'needs_attention', reason: 'not approved', costUsd: 0, usage: usage(0, 0), turns: 1, durationMs: 7000 });
    live.event({ type: 'run_finished', at: at(9), runId: 'r1', status: 'failed', costUsd: 0, usage: usage(0, 0) });
    live.stop();
    expect(t.written()).toContain('\u001b[1morchestrate');
    expect(t.written()).toContain('\u001b[33m! 1A needs attention');
    expect(t.written()).toContain('\u001b]9;orchestrate: 1A needs attention\u0007\u0007');
    expect(t.written()).toContain('\u001b]9;orchestrate: run failed\u0007\u0007');
  });

  it('without colour or notifications: no SGR and no OSC at all', () => {
    const t = fakeTerminal(100);
    const live = new LiveView(t.terminal, { now: () => T0 + 5000 });
    for (const e of started) live.event(e);
    live.event({ type: 'run_finished', at: at(9), runId: 'r1', status: 'completed', costUsd: 0, usage: usage(0, 0) });
    live.stop();
    expect(t.written()).not.toMatch(/\u001b\[[0-9;]*m|\u001b\]/);
  });

  it('on a resize, erases every row the re-wrapped block takes and draws it at the new width', () => {
    const t = fakeTerminal(120);
    const live = new LiveView(t.terminal, { now: () => T0 + 5000 });
    for (const e of started) live.event(e);
    live.stop = live.stop.bind(live);
    // Force the first drawing (events are drawn on a short timer).
    live.print(() => undefined, '');
    const block = live.view.order.length; // three tasks in the run, two running: header + 2 lines
    expect(block).toBe(3);
    t.reset();
    t.terminal.columns = 40;
    t.terminal.emit('resize');
    const erased = (t.written().match(/\u001b\[2K/g) ?? []).length;
    // The 120-column drawing's lines re-wrapped at 40 columns, plus the cursor's row.
    const wide = renderLiveView(live.view, T0 + 5000, 120).split('\n');
    expect(erased).toBe(rowsAfterResize(wide, 40) + 1);
    expect(erased).toBeGreaterThan(wide.length + 1);
    const redrawn = t.written().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').split('\n').filter(Boolean);
    for (const line of redrawn) expect(displayWidth(line)).toBeLessThanOrEqual(40);
    expect(redrawn[0]).toMatch(/^orchestrate · 0\/3 tasks done · 5s$/);
    live.stop();
  });
});

describe('the live view shell: a resize the timer sees before SIGWINCH', () => {
  // tmux re-wraps the screen at once; Node updates stdout.columns only when it handles SIGWINCH, later. A redraw in
  // between must ask the terminal (getWindowSize) and erase the block as re-wrapped, or a ghost header stays.
  function staleTerminal() {
    const t = fakeTerminal(120);
    let size: [number, number] = [120, 40];
    const terminal = Object.assign(t.terminal, { getWindowSize: () => size });
    return { ...t, terminal, resizeBeforeSigwinch: (columns: number) => (size = [columns, 40]) };
  }

  it.each(['the 1 s timer', 'a line printed above the block'])('%s: erases every re-wrapped row and draws at the new width', (trigger) => {
    vi.useFakeTimers();
    try {
      const t = staleTerminal();
      const live = new LiveView(t.terminal, { now: () => T0 + 5000 });
      for (const e of started) live.event(e);
      vi.advanceTimersByTime(150); // the first drawing, at 120 columns
      const wide = renderLiveView(live.view, T0 + 5000, 120).split('\n');
      t.reset();
      t.resizeBeforeSigwinch(40); // terminal.columns still says 120, no 'resize' event yet
      if (trigger === 'the 1 s timer') vi.advanceTimersByTime(1000);
      else live.print(() => undefined, '');
      const erased = (t.written().match(/\u001b\[2K/g) ?? []).length;
      expect(erased).toBeGreaterThanOrEqual(rowsAfterResize(wide, 40) + 1);
      const redrawn = t.written().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').split('\n').filter(Boolean);
      for (const line of redrawn) expect(displayWidth(line)).toBeLessThanOrEqual(40);
      // SIGWINCH arrives afterwards: a plain redraw at the size already drawn, nothing erased twice.
      t.reset();
      t.terminal.columns = 40;
      t.terminal.emit('resize');
      // (log-update erases the rows it drew plus the cursor's.)
      expect((t.written().match(/\u001b\[2K/g) ?? []).length).toBe(renderLiveView(live.view, T0 + 5000, 40).split('\n').length + 1);
      live.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('--quiet and --verbose', () => {
  it('decide which log levels reach the terminal', () => {
    expect((['debug', 'info', 'warn', 'error'] as const).filter((l) => shownAt('quiet', l))).toEqual(['warn', 'error']);
    expect((['debug', 'info', 'warn', 'error'] as const).filter((l) => shownAt('normal', l))).toEqual(['info', 'warn', 'error']);
    expect((['debug', 'info', 'warn', 'error'] as const).filter((l) => shownAt('verbose', l))).toEqual(['debug', 'info', 'warn', 'error']);
  });

  it('quiet on a terminal: no live block, warnings and errors only, the summary still printed', () => {
    let stdout = '';
    let stderr = '';
    const t = fakeTerminal(100);
    const output = createRunOutput({ json: false, verbosity: 'quiet', io: { stdout: (x) => (stdout += x), stderr: (x) => (stderr += x), env: {} }, terminal: t.terminal });
    expect(output.mode).toBe('plain');
    output.echo('info', 'stage 1: merged 1A');
    output.echo('warn', 'careful');
    output.info('Run r1: completed\n');
    expect(stdout).toBe('Run r1: completed\n');
    expect(stderr).toMatch(/^\d\d:\d\d:\d\d careful\n$/);
    expect(t.written()).toBe('');
  });

  it('verbose in the live view: per-task detail and debug lines above the block', () => {
    let stdout = '';
    const t = fakeTerminal(100);
    const output = createRunOutput({ json: false, verbosity: 'verbose', io: { stdout: (x) => (stdout += x), stderr: () => undefined, env: { NO_COLOR: '1' } }, terminal: t.terminal });
    expect(output.mode).toBe('live');
    output.echo('info', '[1A] agent started (attempt 1)');
    output.echo('debug', 'resource sample: load 0.5');
    expect(stdout).toMatch(/\[1A\] agent started/);
    expect(stdout).toMatch(/resource sample/);
    output.finish();
  });
});
