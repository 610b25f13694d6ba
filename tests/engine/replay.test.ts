import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

/**
 * The run journal's replay, at the two kills users saw repeat paid work or lose findings: killed while the review
 * ran (the finished worker must not run again), and killed during a remediation (the findings must reach the
 * continued session). Plus the agent that finished just before the kill: its transcript's result is used.
 */
const approve = { structuredOutput: { verdict: 'approve', summary: 'All exit criteria met.', findings: [] } };
const requestChanges = { structuredOutput: { verdict: 'request_changes', summary: 'Missing pieces.', findings: [{ severity: 'major', file: 'fix.txt', line: 1, message: 'fix.txt is missing' }] } };
const REVIEW = 'reviewing the work done for milestone 1A:';
const REMEDIATE = '1A: Task 1A is not accepted yet';
const WORK = 'milestone 1A:';
const SCRIPT = {
  rules: [
    // The reviewer approves exactly when the fix is there, however often it is asked.
    { match: REVIEW, ifExists: 'fix.txt', run: { steps: [{ sleep: 200 }], ...approve } },
    { match: REVIEW, run: { steps: [{ sleep: 200 }], ...requestChanges } },
    { match: REMEDIATE, run: { steps: [{ sleep: 200 }, { write: 'fix.txt', content: 'fixed\n' }] } },
    { match: WORK, run: { steps: [{ sleep: 200 }, { write: 'a.txt', content: 'draft\n' }] } },
  ],
};
const CONFIG = { review: { enabled: true, max_rounds: 2 } };

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

type Start = { key: string; prompt: string; resumed: boolean; sessionId: string };

async function killAtThenResume(point: string) {
  const repo = makeEngineRepo({ '1A': milestone('1A') }, SCRIPT, CONFIG);
  cleanups.push(repo.cleanup);
  const killed = await runCli([], { cwd: repo.root, env: { ...repo.env, ORCHESTRATOR_TEST_CRASH_AT: point } });
  expect(killed.stderr, `never reached ${point}`).toContain(`: ${point}`);
  expect(killed.exitCode).not.toBe(0);
  const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
  expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
  const starts = readAgentLog(repo.log).filter((r) => r.event === 'start') as unknown as Start[];
  const of = (key: string) => starts.filter((s) => s.key === key);
  const state = readState(repo.root);
  return { repo, state, work: of(WORK), reviews: of(REVIEW), remediations: of(REMEDIATE), merged: repo.git('ls-tree', '--name-only', 'main').split('\n') };
}

describe('replaying the run journal on --resume', () => {
  it('killed during the review: asks the reviewer again and never runs the finished worker again', async () => {
    const r = await killAtThenResume('inside a review agent call');
    expect(r.work).toHaveLength(1);
    // Round 1's review was cut off and asked again from the start (not continued), then round 2 approved.
    expect(r.reviews).toHaveLength(3);
    expect(r.reviews[1]!.resumed).toBe(false);
    expect(r.remediations).toHaveLength(1);
    expect(r.state.tasks['1A']).toMatchObject({ status: 'done', merged: true });
    expect(r.state.tasks['1A'].rounds.map((x: any) => x.verdict)).toEqual(['request_changes', 'approve']);
    expect(r.merged).toEqual(expect.arrayContaining(['a.txt', 'fix.txt']));
  });

  it('killed during a remediation: continues the same session with the same findings, and merges the fix', async () => {
    const r = await killAtThenResume('inside a remediation agent call');
    expect(r.work).toHaveLength(1);
    expect(r.reviews).toHaveLength(2);
    expect(r.remediations).toHaveLength(2);
    const [first, continued] = r.remediations;
    expect(continued).toMatchObject({ resumed: true, sessionId: first!.sessionId });
    expect(continued!.prompt).toContain('fix.txt is missing');
    expect(r.state.tasks['1A'].rounds.map((x: any) => x.verdict)).toEqual(['request_changes', 'approve']);
    expect(r.merged).toContain('fix.txt');
  });

  it('killed after an agent finished but before its result was recorded: takes the result from the transcript', async () => {
    const r = await killAtThenResume('review agent finished, result not recorded');
    expect(r.work).toHaveLength(1);
    expect(r.reviews).toHaveLength(2);
    expect(r.remediations).toHaveLength(1);
    expect(r.state.tasks['1A'].rounds.map((x: any) => x.verdict)).toEqual(['request_changes', 'approve']);
    // Every call booked exactly once: 4 calls at the fake's $0.0016 each.
    expect(r.state.tasks['1A'].costUsd).toBeCloseTo(4 * 0.0016, 6);
    expect(r.merged).toContain('fix.txt');
  });
});

/**
 * Two tasks of one stage write the same file, so the stage merge conflicts and an agent resolves it. Killed after
 * the resolving agent ended well and its end was recorded, but before the step was: the resolution must be taken
 * from the journal, not asked again (a second, paid call) on top of a merge redone from the stage base.
 */
describe('replaying a conflict resolution on --resume', () => {
  const RESOLVE = 'resolving a git merge conflict';
  const CONFLICT_SCRIPT = {
    rules: [
      { match: RESOLVE, run: { steps: [{ sleep: 100 }, { write: 'shared.txt', content: '1A and 1B\n' }, { bash: 'git add shared.txt' }] } },
      ...['1A', '1B'].map((id) => ({ match: `milestone ${id}:`, run: { steps: [{ sleep: 100 }, { write: `${id}.txt`, content: `${id}\n` }, { write: 'shared.txt', content: `${id}\n` }] } })),
    ],
  };

  it('killed after the resolving agent ended but before the step was recorded: keeps its resolution, asks no agent again', async () => {
    const point = 'resolve agent call recorded, step not done';
    const repo = makeEngineRepo({ '1A': milestone('1A'), '1B': milestone('1B') }, CONFLICT_SCRIPT, { checks: { commands: ['! grep -rq "<<<<<<<" --include=*.txt .'] } });
    cleanups.push(repo.cleanup);
    const killed = await runCli([], { cwd: repo.root, env: { ...repo.env, ORCHESTRATOR_TEST_CRASH_AT: point } });
    expect(killed.stderr, `never reached ${point}`).toContain(`: ${point}`);
    expect(killed.exitCode).not.toBe(0);
    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);

    const starts = readAgentLog(repo.log).filter((r) => r.event === 'start');
    expect(starts.filter((s) => s.key === RESOLVE)).toHaveLength(1);
    expect(repo.git('show', 'main:shared.txt')).toBe('1A and 1B');
    expect(repo.git('ls-tree', '--name-only', 'main').split('\n')).toEqual(expect.arrayContaining(['1A.txt', '1B.txt', 'shared.txt']));
    const state = readState(repo.root);
    expect(Object.values<any>(state.tasks).map((t) => `${t.id} ${t.status} ${t.merged}`).sort()).toEqual(['1A done true', '1B done true']);
    // Booked once each: the two workers and the one resolution, at the fake's $0.0016 a call.
    const total = Object.values<any>(state.tasks).reduce((sum, t) => sum + t.costUsd, 0);
    expect(total).toBeCloseTo(3 * 0.0016, 6);
  });
});
