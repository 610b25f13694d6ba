import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

/**
 * Set-up commands: as the user by default (the decision: they run before the agent, need the registry and caches
 * under HOME); in bubblewrap, with the network, when agent.sandbox.setup is true. A run of the orchestrator with the
 * fake agent and real bubblewrap. agent.sandbox.checks: false takes checks (and hooks) out of it again.
 */

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const SETUP = 'echo ok > setup-in-worktree.txt; echo x > "$HOME/setup-wrote-home.txt"; true';

async function runWith(sandbox: object, checks: string[] = []): Promise<{ home: string; root: string; git: (...a: string[]) => string }> {
  const repo = makeEngineRepo(
    { '1A': milestone('1A') },
    { rules: [{ match: 'milestone 1A:', run: { steps: [{ write: 'a.txt', content: 'a\n' }] } }] },
    { worktrees: { setup: [SETUP] }, checks: { commands: checks }, agent: { sandbox } },
  );
  const home = `${repo.root}-home`;
  mkdirSync(home);
  cleanup = () => {
    repo.cleanup();
    rmSync(home, { recursive: true, force: true });
  };
  const result = await runCli([], { cwd: repo.root, env: { ...repo.env, HOME: home } });
  expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  expect(readState(repo.root).tasks['1A']).toMatchObject({ status: 'done', merged: true });
  // Either way the set-up wrote its worktree, and that is merged with the task.
  expect(repo.git('show', 'main:setup-in-worktree.txt')).toBe('ok');
  return { home, root: repo.root, git: repo.git };
}

describe('set-up commands and the sandbox (real bubblewrap)', () => {
  it('default: set-up runs as the user (it could write HOME)', async () => {
    const { home } = await runWith({ enabled: 'auto' });
    expect(existsSync(path.join(home, 'setup-wrote-home.txt'))).toBe(true);
  });

  it('agent.sandbox.setup: true: set-up runs in bubblewrap, HOME stays untouched', async () => {
    const { home } = await runWith({ enabled: 'auto', setup: true });
    expect(existsSync(path.join(home, 'setup-wrote-home.txt'))).toBe(false);
  });

  it('agent.sandbox.checks: false: checks run as the user again (a check that writes HOME does)', async () => {
    const { home } = await runWith({ enabled: 'auto', checks: false }, ['echo x > "$HOME/check-wrote-home.txt"']);
    expect(existsSync(path.join(home, 'check-wrote-home.txt'))).toBe(true);
  });
});
