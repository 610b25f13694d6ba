import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

/**
 * kill -9 at every kind of transition, then --resume: the end state must equal an uninterrupted run's. The
 * orchestrator kills itself at the n-th crash point (ORCHESTRATOR_TEST_CRASH_AT, a test-only switch).
 */
const PLAN = { '1A': milestone('1A'), '1B': milestone('1B', { deps: ['1A'] }), '1C': milestone('1C'), '2A': milestone('2A') };
const SCRIPT = {
  rules: Object.keys(PLAN).map((id) => ({
    match: `milestone ${id}:`,
    // Half the tasks commit themselves, half leave the commit to the orchestrator.
    run: { steps: [{ write: `${id}.txt`, content: `${id}\n` }, ...(id < '1C' ? [{ bash: `git add -A && git commit -qm "${id}: work"` }] : [])] },
  })),
};
const CONFIG = { max_parallel_tasks: 2 };
const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

interface Outcome {
  files: string[];
  merges: string[];
  statuses: Record<string, string>;
  tasksMdDone: boolean;
}

function outcome(root: string, git: (...a: string[]) => string): Outcome {
  const state = readState(root);
  return {
    files: git('ls-tree', '--name-only', 'main').split('\n').sort(),
    merges: git('log', '--first-parent', '--format=%s', 'main').split('\n').filter((s) => s.startsWith('Merge milestone')).sort(),
    statuses: Object.fromEntries(Object.values<any>(state.tasks).map((t) => [t.id, `${t.status}${t.merged ? '+merged' : ''}`])),
    tasksMdDone: readFileSync(path.join(root, 'TASKS.md'), 'utf8').includes('4/4 tasks done'),
  };
}

async function crashAndResume(point: number): Promise<{ outcome: Outcome; rerunDone: string[]; crashed: boolean }> {
  const repo = makeEngineRepo(PLAN, SCRIPT, CONFIG);
  cleanups.push(repo.cleanup);
  const crashed = await runCli([], { cwd: repo.root, env: { ...repo.env, ORCHESTRATOR_TEST_CRASH_AT: String(point) } });
  const wasKilled = crashed.exitCode !== 0;
  let doneAtCrash: string[] = [];
  if (existsSync(path.join(repo.root, '.orchestrator', 'run-state.json'))) {
    doneAtCrash = Object.values<any>(readState(repo.root).tasks).filter((t) => t.status === 'done').map((t) => t.id);
  }
  const startsBefore = readAgentLog(repo.log).filter((r) => r.event === 'start').length;
  if (wasKilled) {
    const resumed = await runCli(existsSync(path.join(repo.root, '.orchestrator', 'run-state.json')) ? ['--resume'] : [], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, `crash point ${point}: ${resumed.stdout}${resumed.stderr}`).toBe(0);
  }
  const later = readAgentLog(repo.log).filter((r) => r.event === 'start').slice(startsBefore);
  const rerunDone = later.filter((r) => doneAtCrash.some((id) => r.key === `milestone ${id}:`)).map((r) => String(r.key));
  return { outcome: outcome(repo.root, repo.git), rerunDone, crashed: wasKilled };
}

describe('kill -9 at many points, then --resume', () => {
  it('ends like an uninterrupted run every time', async () => {
    const reference = makeEngineRepo(PLAN, SCRIPT, CONFIG);
    cleanups.push(reference.cleanup);
    const counted = await runCli([], { cwd: reference.root, env: { ...reference.env, ORCHESTRATOR_TEST_CRASH_AT: '-1' } });
    expect(counted.exitCode, counted.stdout + counted.stderr).toBe(0);
    const expected = outcome(reference.root, reference.git);
    expect(expected.tasksMdDone).toBe(true);
    const total = (counted.stderr.match(/test crash point \d+:/g) ?? []).length;
    expect(total).toBeGreaterThanOrEqual(30);

    const points = Array.from({ length: 32 }, (_, i) => 1 + Math.floor((i * (total - 1)) / 31));
    const results: Array<{ point: number; crashed: boolean }> = [];
    for (let i = 0; i < points.length; i += 2) {
      const batch = points.slice(i, i + 2);
      const done = await Promise.all(batch.map((p) => crashAndResume(p)));
      done.forEach((r, j) => {
        const point = batch[j]!;
        expect(r.outcome, `crash point ${point}`).toEqual(expected);
        expect(r.rerunDone, `crash point ${point}: finished tasks ran again`).toEqual([]);
        results.push({ point, crashed: r.crashed });
      });
    }
    expect(new Set(results.filter((r) => r.crashed).map((r) => r.point)).size).toBeGreaterThanOrEqual(30);
  }, 600_000);
});
