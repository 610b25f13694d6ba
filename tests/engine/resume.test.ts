import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const PLAN = {
  '1A': milestone('1A'),
  '1B': milestone('1B'),
  '1C': milestone('1C', { deps: ['1A'] }),
  '2A': milestone('2A', { deps: ['1A'] }),
  '2B': milestone('2B'),
  '2C': milestone('2C', { deps: ['2A'] }),
};

function script(): object {
  return {
    rules: Object.keys(PLAN).map((id) => ({
      match: `milestone ${id}:`,
      run: { steps: [{ sleep: id === '1A' ? 50 : 600 }, { write: `${id}.txt`, content: `${id}\n` }, { bash: `git add -A && git commit -qm "${id}: work"` }] },
    })),
  };
}

/** Waits for a condition on the state file, bounded: the orchestrator writes it at every transition. */
async function waitForState(root: string, predicate: (s: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const file = path.join(root, '.orchestrator', 'run-state.json');
    if (existsSync(file)) {
      try {
        const s = JSON.parse(readFileSync(file, 'utf8'));
        if (predicate(s)) return s;
      } catch {
        /* never half-written (atomic), but may not exist yet */
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('state never reached the expected condition');
}

describe('kill -9 then --resume', () => {
  it('finishes the run without re-running finished tasks, losing commits or merging twice', async () => {
    const repo = makeEngineRepo(PLAN, script());
    cleanup = repo.cleanup;
    const child = execa(process.execPath, [CLI], { cwd: repo.root, env: { ...repo.env, CI: 'true' }, reject: false, stdin: 'ignore' });
    const atKill = await waitForState(repo.root, (s) => s.tasks['1A']?.status === 'done' && Object.values<any>(s.tasks).some((t) => t.status === 'running' && t.agentPid && t.sessionId));
    child.kill('SIGKILL');
    await child;
    const doneBefore = Object.values<any>(atKill.tasks).filter((t) => t.status === 'done').map((t) => t.id);

    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    const state = readState(repo.root);
    expect(state.status).toBe('completed');

    const starts = readAgentLog(repo.log).filter((r) => r.event === 'start');
    for (const id of doneBefore) expect(starts.filter((r) => r.key === `milestone ${id}:`)).toHaveLength(1);
    for (const id of Object.keys(PLAN)) {
      expect(state.tasks[id].status).toBe('done');
      expect(existsSync(path.join(repo.root, `${id}.txt`)), `${id}.txt missing; integration ${state.integrationBranch}; status ${repo.git('status', '--porcelain')}; ${resumed.stdout}`).toBe(true);
      const merges = repo.git('log', '--first-parent', '--format=%s', 'main').split('\n').filter((s) => s.startsWith(`Merge milestone ${id}:`));
      expect(merges).toHaveLength(1);
    }
    // An interrupted agent's session was continued rather than started over; or, when the agent had finished
    // before the kill (the state file lags a little), its result was taken from the transcript and nothing ran.
    const interrupted = Object.values<any>(atKill.tasks).filter((t) => t.status === 'running' && t.sessionId);
    expect(interrupted.length).toBeGreaterThan(0);
    for (const t of interrupted) {
      const again = starts.filter((r) => r.key === `milestone ${t.id}:`);
      expect(again.length).toBeLessThanOrEqual(2);
      if (again.length === 2) expect(again[1]).toMatchObject({ resumed: true, sessionId: t.sessionId });
    }
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toContain('6/6 tasks done');
  });

  it('continues only the tasks of the run it resumes: after a --milestone 1A run, 1B is neither run nor reported failed', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A'), '1B': milestone('1B') }, { default: { steps: [{ write: 'work.txt', content: 'w\n' }] } });
    cleanup = repo.cleanup;
    const first = await runCli(['--milestone', '1A'], { cwd: repo.root, env: repo.env });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);

    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });

    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout + resumed.stderr).toMatch(/Nothing to run/);
    expect(resumed.stdout + resumed.stderr).not.toMatch(/1B failed/);
    expect(readState(repo.root)).toMatchObject({ status: 'completed', selected: ['1A'] });
    expect(readAgentLog(repo.log).filter((r) => r.event === 'start')).toHaveLength(1);
  });

  it('ends a run whose every task was done and merged when the crash came before the state said it was over', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { default: { steps: [{ write: '1A.txt', content: '1A\n' }] } });
    cleanup = repo.cleanup;
    expect((await runCli([], { cwd: repo.root, env: repo.env })).exitCode).toBe(0);
    // The state as the last save before the run's end left it (kill -9 between the target advance and the end).
    const file = path.join(repo.root, '.orchestrator', 'run-state.json');
    const { finishedAt: _, ...unfinished } = { ...readState(repo.root), status: 'running' };
    writeFileSync(file, JSON.stringify(unfinished));
    const calls = readAgentLog(repo.log).length;
    const status = await runCli(['status'], { cwd: repo.root, env: repo.env });
    expect(status.stdout).toMatch(/continue with: orchestrate --resume/);
    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(readState(repo.root)).toMatchObject({ status: 'completed', finishedAt: expect.any(String) });
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toContain('**completed**');
    expect(readAgentLog(repo.log)).toHaveLength(calls);
  });

  it('refuses to resume a run one of whose unfinished tasks has lost its milestone file, and says how to go on', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A'), '1B': milestone('1B') }, { rules: [{ match: 'milestone 1A:', run: { steps: [{ write: '1A.txt', content: '1A\n' }] } }] });
    cleanup = repo.cleanup;
    expect((await runCli([], { cwd: repo.root, env: repo.env })).exitCode).toBe(1); // 1B changes nothing: failed
    repo.git('rm', '-q', 'milestones/1B.md');
    repo.git('commit', '-qm', 'drop 1B');
    const calls = readAgentLog(repo.log).length;
    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(2);
    expect(resumed.stderr).toMatch(/1B is a task of the run being resumed, not done, but no such milestone is in milestones any more/);
    expect(resumed.stderr).toMatch(/git log --oneline -- milestones/);
    expect(readAgentLog(repo.log)).toHaveLength(calls);
  });

  it('with nothing to resume, says so', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, {});
    cleanup = repo.cleanup;
    const result = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/no earlier run to resume/);
  });
});
