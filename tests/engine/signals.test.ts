import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
}

async function until<T>(probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function hangingRepo() {
  const repo = makeEngineRepo(
    { '1A': milestone('1A'), '1B': milestone('1B') },
    { default: { steps: [{ spawnChild: 'ownGroup' }, { spawnChild: true }, { hang: true }] } },
    { max_parallel_tasks: 2 },
  );
  cleanup = repo.cleanup;
  return repo;
}

async function whenAgentsAreWorking(repo: ReturnType<typeof hangingRepo>) {
  return until(() => {
    const children = readAgentLog(repo.log).filter((r: any) => r.event === 'child');
    return children.length >= 4 ? children : undefined;
  });
}

describe('signals', () => {
  it('first Ctrl-C stops agents, saves the state, exits 130 and leaves no process behind', async () => {
    const repo = hangingRepo();
    const run = execa(process.execPath, [CLI], { cwd: repo.root, env: { ...repo.env, CI: 'true' }, reject: false, stdin: 'ignore' });
    const children = await whenAgentsAreWorking(repo);
    const agents = readAgentLog(repo.log).filter((r) => r.event === 'start').map((r) => r.pid);
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toMatch(/SIGINT: stopping/);
    expect(readState(repo.root).status).toBe('interrupted');
    for (const pid of [...agents, ...children.map((c: any) => c.childPid as number)]) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(String(result.stdout)).toMatch(/orchestrate --resume/);
  });

  it('a second Ctrl-C quits at once, still leaving no process behind', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      // This agent ignores SIGTERM: only the second Ctrl-C (and the kill that follows) ends it.
      { default: { ignoreSigterm: true, steps: [{ spawnChild: 'ownGroup' }, { hang: true }] } },
    );
    cleanup = repo.cleanup;
    const run = execa(process.execPath, [CLI], { cwd: repo.root, env: { ...repo.env, CI: 'true' }, reject: false, stdin: 'ignore' });
    const [child] = await until(() => {
      const c = readAgentLog(repo.log).filter((r: any) => r.event === 'child');
      return c.length >= 1 ? c : undefined;
    });
    const agent = readAgentLog(repo.log).find((r) => r.event === 'start')!.pid;
    run.kill('SIGINT');
    await until(() => (readAgentLog(repo.log).some((r) => r.event === 'sigterm') ? true : undefined));
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode).toBe(130);
    await until(() => (!alive(agent) && !alive((child as any).childPid) ? true : undefined), 10_000);
    expect(existsSync(path.join(repo.root, '.orchestrator', 'run-state.json'))).toBe(true);
  });
});

describe('one run per repository', () => {
  it('Ctrl-C during a conflict resolution says the merge was interrupted (no resolving by hand), and --resume finishes it', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B') },
      {
        rules: [
          { match: 'resolving a git merge conflict', runs: [{ steps: [{ hang: true }] }, { steps: [{ write: 'shared.txt', content: 'both\n' }, { bash: 'git add shared.txt' }] }] },
          { match: 'milestone 1A:', run: { steps: [{ write: 'shared.txt', content: '1A\n' }] } },
          { match: 'milestone 1B:', run: { steps: [{ write: 'shared.txt', content: '1B\n' }] } },
        ],
      },
      { max_parallel_tasks: 2 },
    );
    cleanup = repo.cleanup;
    const run = execa(process.execPath, [CLI], { cwd: repo.root, env: { ...repo.env, CI: 'true' }, reject: false, stdin: 'ignore' });
    await until(() => (readAgentLog(repo.log).some((r) => r.event === 'start' && r.key === 'resolving a git merge conflict') ? true : undefined));
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode).toBe(130);
    const said = String(result.stdout) + String(result.stderr);
    expect(said).toMatch(/its merge was interrupted .*orchestrate --resume redoes it/);
    expect(said).not.toMatch(/To resolve by hand/);
    const resumed = await execa(process.execPath, [CLI, '--resume'], { cwd: repo.root, env: { ...repo.env, CI: 'true' }, reject: false, stdin: 'ignore' });
    expect(resumed.exitCode, String(resumed.stderr)).toBe(0);
    expect(repo.git('show', 'main:shared.txt')).toBe('both');
  });

  it('refuses a second concurrent run and names the holder', async () => {
    const repo = hangingRepo();
    const first = execa(process.execPath, [CLI], { cwd: repo.root, env: { ...repo.env, CI: 'true' }, reject: false, stdin: 'ignore' });
    await whenAgentsAreWorking(repo);
    const second = await execa(process.execPath, [CLI], { cwd: repo.root, env: { ...repo.env, CI: 'true' }, reject: false, stdin: 'ignore' });
    expect(second.exitCode).toBe(4);
    expect(String(second.stderr)).toContain(`pid ${first.pid}`);
    first.kill('SIGINT');
    expect((await first).exitCode).toBe(130);
  });
});
