import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const write = (file: string) => ({ steps: [{ write: file, content: `${file}\n` }] });
const starts = (log: string) => readAgentLog(log).filter((r) => r.event === 'start');

describe('agent faults', () => {
  it('retries a crashed agent by continuing its session, and completes', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { rules: [{ match: 'milestone 1A:', runs: [{ steps: [{ text: 'starting' }, { exit: 3 }] }, write('a.txt')] }] });
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const runs = starts(repo.log);
    expect(runs).toHaveLength(2);
    expect(runs[1]).toMatchObject({ resumed: true, sessionId: runs[0]!.sessionId });
    expect(result.stderr).toMatch(/\[1A\] agent crashed: .*retrying \(1 of 2\)/);
  });

  it('kills an agent that goes silent (idle_timeout), retries, and tolerates malformed lines', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      { rules: [{ match: 'milestone 1A:', runs: [{ steps: [{ malformed: 'not json {' }, { hang: true }] }, { steps: [{ malformed: '<<garbage>>' }, { write: 'a.txt', content: 'a' }] }] }] },
      { agent: { idle_timeout: 1 } },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toMatch(/idle_timeout/);
    expect(readState(repo.root).tasks['1A'].status).toBe('done');
  });

  it('gives up after bounded retries with the reason, and the run goes on without crashing', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B') },
      { rules: [{ match: 'milestone 1A:', run: { steps: [{ exit: 9 }] } }, { match: 'milestone 1B:', run: write('b.txt') }] },
      { retry_attempts: 1 },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).not.toMatch(/internal error/);
    const state = readState(repo.root);
    expect(state.tasks['1A'].status).toBe('failed');
    expect(state.tasks['1A'].reason).toMatch(/^crashed: /);
    expect(starts(repo.log).filter((r) => r.key === 'milestone 1A:')).toHaveLength(2); // the run and one retry
    expect(state.tasks['1B'].merged).toBe(true);
  });
});
