import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

/**
 * kill -9 at every kind of step boundary and inside every kind of agent call, then --resume. The end state must
 * equal an uninterrupted run's, and the agent calls per (task, purpose) must equal its calls too, except the ones
 * cut off by the kill: those may run once more, and then as a continuation of their session (a review is asked
 * again instead). The orchestrator kills itself at a named crash point (ORCHESTRATOR_TEST_CRASH_AT=name#k, a
 * test-only switch); an uninterrupted run lists every point it passes.
 *
 * The plan exercises each kind of step: 1A is reviewed, the review asks for changes once (the reviewer approves
 * exactly when 1A.fix exists), a remediation adds the fix; 1B depends on 1A in the same stage; 1B and 1C write
 * the same file, so the stage merge conflicts and an agent resolves it; 2A is a second stage. Checks run everywhere.
 */
const PLAN = {
  '1A': milestone('1A', { frontMatter: 'review: true' }),
  '1B': milestone('1B', { deps: ['1A'] }),
  '1C': milestone('1C'),
  '2A': milestone('2A'),
};
const approve = { structuredOutput: { verdict: 'approve', summary: 'All exit criteria met.', findings: [] } };
const requestChanges = { structuredOutput: { verdict: 'request_changes', summary: 'Missing the fix.', findings: [{ severity: 'major', file: '1A.txt', line: 1, message: '1A.fix is missing' }] } };
const SCRIPT = {
  rules: [
    { match: 'reviewing the work done for milestone 1A:', ifExists: '1A.fix', run: { steps: [{ sleep: 100 }], ...approve } },
    { match: 'reviewing the work done for milestone 1A:', run: { steps: [{ sleep: 100 }], ...requestChanges } },
    { match: '1A: Task 1A is not accepted yet', run: { steps: [{ sleep: 100 }, { write: '1A.fix', content: 'fixed\n' }] } },
    { match: 'resolving a git merge conflict', run: { steps: [{ sleep: 100 }, { write: 'shared.txt', content: '1B\n1C\n' }, { bash: 'git add shared.txt' }] } },
    ...Object.keys(PLAN).map((id) => ({
      match: `milestone ${id}:`,
      run: {
        steps: [
          { sleep: 100 },
          { write: `${id}.txt`, content: `${id}\n` },
          ...(id === '1B' || id === '1C' ? [{ write: 'shared.txt', content: `${id}\n` }] : []),
          // Half the tasks commit themselves, half leave the commit to the orchestrator.
          ...(id < '1C' ? [{ bash: `git add -A && git commit -qm "${id}: work"` }] : []),
        ],
      },
    })),
  ],
};
const CONFIG = { max_parallel_tasks: 2, checks: { commands: ['! grep -rq "<<<<<<<" --include=*.txt .'] }, review: { enabled: false, max_rounds: 2 } };
const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

interface Outcome {
  files: Record<string, string>;
  merges: string[];
  statuses: Record<string, string>;
  rounds: string[];
  costs: Record<string, number>;
  tasksMdDone: boolean;
}

function outcome(root: string, git: (...a: string[]) => string): Outcome {
  const state = readState(root);
  const tasks = Object.values<any>(state.tasks);
  const names = git('ls-tree', '--name-only', 'main').split('\n').filter((f) => f.endsWith('.txt') || f.endsWith('.fix'));
  return {
    files: Object.fromEntries(names.sort().map((f) => [f, git('show', `main:${f}`)])),
    merges: git('log', '--first-parent', '--format=%s', 'main').split('\n').filter((s) => s.startsWith('Merge milestone')).sort(),
    statuses: Object.fromEntries(tasks.map((t) => [t.id, `${t.status}${t.merged ? '+merged' : ''}`])),
    rounds: (state.tasks['1A'].rounds ?? []).map((r: any) => r.verdict ?? 'no review'),
    // Every call of the fake costs the same: equal totals mean nothing was booked twice or lost.
    costs: Object.fromEntries(tasks.map((t) => [t.id, Math.round(t.costUsd * 1e6)])),
    tasksMdDone: readFileSync(path.join(root, 'TASKS.md'), 'utf8').includes('4/4 tasks done'),
  };
}

type Purpose = 'worker' | 'review' | 'remediation' | 'resolve';
interface Call {
  key: string;
  resumed: boolean;
  sessionId: string;
}

/** What a fake-agent start was, from its prompt: "<task> <purpose>". */
function callsOf(log: string): Call[] {
  return readAgentLog(log)
    .filter((r) => r.event === 'start')
    .map((r: any) => {
      const prompt = String(r.prompt);
      const task = /milestone (\w+):/.exec(prompt)?.[1] ?? '?';
      const purpose: Purpose = prompt.includes('reviewing the work done')
        ? 'review'
        : prompt.includes('resolving a git merge conflict')
          ? 'resolve'
          : prompt.includes('is not accepted yet')
            ? 'remediation'
            : 'worker';
      return { key: `${task} ${purpose}`, resumed: Boolean(r.resumed), sessionId: String(r.sessionId) };
    });
}

function countBy(calls: Call[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of calls) counts[c.key] = (counts[c.key] ?? 0) + 1;
  return counts;
}

/** The agent calls the killed run had started and not seen end, by the journal: "<task> <purpose>" → session. */
function cutOff(root: string): Array<{ key: string; sessionId?: string }> {
  const file = path.join(root, '.orchestrator', 'journal.ndjson');
  if (!existsSync(file)) return [];
  const open = new Map<string, { key: string; sessionId?: string }>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    let e: any;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    const id = `${e.task} ${e.step} ${e.n ?? ''}`;
    const purpose = String(e.step).replace(/-.*$/, '');
    if (e.t === 'call') open.set(id, { key: `${e.task} ${purpose}` });
    if (e.t === 'session') for (const [k, v] of open) if (k.startsWith(`${e.task} ${e.step} `)) v.sessionId = e.sessionId;
    if (e.t === 'call_end') open.delete(id);
  }
  return [...open.values()];
}

async function crashAndResume(point: string, reference: Record<string, number>, expected: Outcome): Promise<void> {
  const repo = makeEngineRepo(PLAN, SCRIPT, CONFIG);
  cleanups.push(repo.cleanup);
  const crashed = await runCli([], { cwd: repo.root, env: { ...repo.env, ORCHESTRATOR_TEST_CRASH_AT: point } });
  expect(crashed.stderr, `crash point ${point} was never reached`).toContain(`: ${point.replace(/#\d+$/, '')}`);
  expect(crashed.exitCode).not.toBe(0);
  const inFlight = cutOff(repo.root);
  const before = callsOf(repo.log).length;
  const resumed = await runCli(existsSync(path.join(repo.root, '.orchestrator', 'run-state.json')) ? ['--resume'] : [], { cwd: repo.root, env: repo.env });
  expect(resumed.exitCode, `crash point ${point}: ${resumed.stdout}${resumed.stderr}`).toBe(0);
  expect(outcome(repo.root, repo.git), `crash point ${point}`).toEqual(expected);

  const calls = callsOf(repo.log);
  const counts = countBy(calls);
  const later = calls.slice(before);
  for (const key of new Set([...Object.keys(reference), ...Object.keys(counts)])) {
    const extra = (counts[key] ?? 0) - (reference[key] ?? 0);
    const cut = inFlight.filter((c) => c.key === key);
    expect(extra, `crash point ${point}: ${key} ran ${counts[key] ?? 0} times, ${reference[key] ?? 0} uninterrupted, ${cut.length} cut off`).toBeGreaterThanOrEqual(0);
    expect(extra, `crash point ${point}: ${key} ran ${counts[key] ?? 0} times, ${reference[key] ?? 0} uninterrupted, ${cut.length} cut off`).toBeLessThanOrEqual(cut.length);
    if (extra === 0) continue;
    // The call run again is the cut-off one continued: its session (a review: asked afresh, never the worker).
    const again = later.find((c) => c.key === key)!;
    if (key.endsWith(' review')) expect(again.resumed, `crash point ${point}: ${key}`).toBe(false);
    else if (cut[0]?.sessionId) expect(again, `crash point ${point}: ${key} was restarted, not continued`).toMatchObject({ resumed: true, sessionId: cut[0].sessionId });
  }
}

describe('kill -9 at every kind of step, then --resume', () => {
  it('ends like an uninterrupted run, and runs no finished agent call again', async () => {
    const reference = makeEngineRepo(PLAN, SCRIPT, CONFIG);
    cleanups.push(reference.cleanup);
    const counted = await runCli([], { cwd: reference.root, env: { ...reference.env, ORCHESTRATOR_TEST_CRASH_AT: '-1' } });
    expect(counted.exitCode, counted.stdout + counted.stderr).toBe(0);
    const expected = outcome(reference.root, reference.git);
    expect(expected.tasksMdDone).toBe(true);
    expect(expected.rounds).toEqual(['request_changes', 'approve']);
    expect(expected.files['shared.txt']).toBe('1B\n1C');
    const referenceCalls = countBy(callsOf(reference.log));
    expect(referenceCalls).toEqual({ '1A worker': 1, '1A review': 2, '1A remediation': 1, '1B worker': 1, '1C worker': 1, '1C resolve': 1, '2A worker': 1 });

    // Every kind of point once, and inside the review after the request for changes (the second of its kind).
    const names = [...new Set([...counted.stderr.matchAll(/test crash point \d+: (.*) \(counting\)/g)].map((m) => m[1]!))];
    const points = [...names, 'inside a review agent call#2'];
    for (const kind of ['worker', 'review', 'remediation', 'resolve']) expect(names).toContain(`inside a ${kind} agent call`);
    for (const kind of ['checks', 'commit', 'merge', 'advance', 'setup', 'worktree']) expect(names).toContain(`${kind} step recorded`);
    expect(names).toContain('check ran, checks not recorded');

    for (let i = 0; i < points.length; i += 2) {
      await Promise.all(points.slice(i, i + 2).map((p) => crashAndResume(p, referenceCalls, expected)));
    }
  }, 900_000);
});
