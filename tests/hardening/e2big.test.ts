import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('sizes the system refuses', () => {
  it('a 400 KB milestone runs (its prompt goes on stdin)', async () => {
    const body = `${'A long requirement line, repeated to make the milestone large.\n'.repeat(6500)}`;
    const big = milestone('1A').replace('## Tasks\n', `## Tasks\n${body}`);
    expect(big.length).toBeGreaterThan(400_000);
    const repo = makeEngineRepo({ '1A': big }, { rules: [{ match: 'milestone 1A:', run: { steps: [{ write: '1A.txt', content: '1A\n' }] } }] });
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const start = readAgentLog(repo.log).find((r) => r.event === 'start') as unknown as { prompt: string };
    expect(start.prompt).toContain(body);
  });

  it('an agent command line over the limit (E2BIG) fails the task at once: not retried, not called a missing CLI', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      { rules: [] },
      { agent: { env: { HUGE_SETTING: 'x'.repeat(200_000) } } },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const state = readState(repo.root);
    expect(state.tasks['1A'].status).toBe('failed');
    expect(state.tasks['1A'].reason).toMatch(/too large for the system \(E2BIG/);
    expect(state.tasks['1A'].reason).not.toMatch(/npm i -g|not found/);
    expect(state.tasks['1A'].attempts).toBe(1);
    // Every log line is echoed on the terminal too.
    expect(result.stdout + result.stderr).toMatch(/E2BIG/);
    expect(result.stdout + result.stderr).not.toMatch(/retrying/);
  });
});
