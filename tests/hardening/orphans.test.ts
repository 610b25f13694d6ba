import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isAgentOf, processStartTime, stopOrphanedAgent } from '../../src/run/orphans.js';
import { isPidAlive } from '../../src/util/process.js';

let dir: string;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function sleeper(cwd: string, detached = true): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { cwd, detached, stdio: 'ignore' });
  children.push(child);
  return child;
}

describe('a recorded agent pid is signalled only when it is provably that agent', () => {
  it('needs the recorded start time, the derived worktree as working directory and a process group of its own', async () => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'mo-orphan-')));
    const worktree = path.join(dir, '.worktree', '1A');
    mkdirSync(worktree, { recursive: true });
    const agent = sleeper(worktree);
    const start = processStartTime(agent.pid!);
    expect(start).toMatch(/^\d+$/);

    expect(isAgentOf(agent.pid!, start, worktree)).toBe(true);
    expect(isAgentOf(agent.pid!, undefined, worktree)).toBe(false); // nothing recorded: nothing proven
    expect(isAgentOf(agent.pid!, String(Number(start) + 1), worktree)).toBe(false); // a recycled pid
    expect(isAgentOf(agent.pid!, start, path.join(dir, '.worktree', '1B'))).toBe(false);
    expect(isAgentOf(agent.pid!, start, '/nonexistent/worktree')).toBe(false);

    // Not the leader of its group (a tampered pid of some process in another group): never signalled.
    const inOurGroup = sleeper(worktree, false);
    expect(isAgentOf(inOurGroup.pid!, processStartTime(inOurGroup.pid!), worktree)).toBe(false);
  });

  it('leaves an unrelated process alone even with a state file claiming "/" as its worktree', async () => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'mo-orphan-')));
    const unrelated = sleeper('/');
    expect(await stopOrphanedAgent(unrelated.pid!, processStartTime(unrelated.pid!), path.join(dir, '.worktree', '1A'), 200)).toBe('not-ours');
    expect(await stopOrphanedAgent(unrelated.pid!, undefined, '/', 200)).toBe('not-ours');
    expect(await stopOrphanedAgent(process.pid, processStartTime(process.pid), process.cwd(), 200)).toBe('not-ours');
    expect(await stopOrphanedAgent(1, processStartTime(1), '/', 200)).toBe('not-ours');
    expect(isPidAlive(unrelated.pid!)).toBe(true);
  });

  it('stops the real agent', async () => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'mo-orphan-')));
    const agent = sleeper(dir);
    const exited = new Promise((r) => agent.once('exit', r));
    expect(await stopOrphanedAgent(agent.pid!, processStartTime(agent.pid!), dir, 2000)).toBe('stopped');
    await exited;
  });
});
