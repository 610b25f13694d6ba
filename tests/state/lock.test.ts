import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, existsSync, utimesSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { acquireLock, readLock } from '../../src/state/lock.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('one run per repository', () => {
  it('refuses a second holder and names the first', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mo-lock-'));
    const file = path.join(dir, 'lock');
    const first = await acquireLock(file, 'orchestrate');
    expect(first.acquired).toBe(true);
    // A live process other than us holds it: simulate with a child that sleeps.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(file, JSON.stringify({ pid: child.pid, host: hostname(), startedAt: 'then', command: 'orchestrate --stage 1' }));
      const second = await acquireLock(file, 'orchestrate');
      expect(second.acquired).toBe(false);
      if (!second.acquired) expect(second.reason).toContain(`pid ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over a lock whose pid now belongs to a later process (a recycled pid); without a recorded start time it names the rm that frees it', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mo-lock-'));
    const file = path.join(dir, 'lock');
    const mine = await acquireLock(file, 'orchestrate');
    expect(mine.acquired).toBe(true);
    const recorded = JSON.parse(readFileSync(file, 'utf8'));
    expect(recorded.procStart).toMatch(/^\d+$/);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      // The live child's pid with another start time: the process that wrote the lock is gone.
      writeFileSync(file, JSON.stringify({ pid: child.pid, host: hostname(), startedAt: 'then', command: 'orchestrate', procStart: '1' }));
      const taken = await acquireLock(file, 'orchestrate');
      expect(taken.acquired).toBe(true);
      // No start time recorded (another tool's lock, or an older version's): never guessed stale; the reason says how out.
      writeFileSync(file, JSON.stringify({ pid: child.pid, host: hostname(), startedAt: 'then', command: 'orchestrate' }));
      const refused = await acquireLock(file, 'orchestrate');
      expect(refused.acquired).toBe(false);
      if (!refused.acquired) expect(refused.reason).toContain(`If no orchestrate run is going on there, remove the lock: rm ${file}`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over a stale lock whose process is gone, and releases only its own', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mo-lock-'));
    const file = path.join(dir, 'lock');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    writeFileSync(file, JSON.stringify({ pid: deadPid, host: hostname(), startedAt: 'then', command: 'x' }));
    const taken = await acquireLock(file, 'orchestrate');
    expect(taken.acquired).toBe(true);
    if (!taken.acquired) return;
    expect(taken.tookOverFrom?.pid).toBe(deadPid);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    await taken.release();
    expect(existsSync(file)).toBe(false);
  });

  it('lets exactly one of many concurrent starters win', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mo-lock-'));
    const file = path.join(dir, 'lock');
    const results = await Promise.all(Array.from({ length: 8 }, () => acquireLock(file, 'x')));
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
  });
});

describe('a lock path that is not a lock file', () => {
  it('refuses a directory (or link) at the lock path with what to remove, and leaves it in place', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mo-lock-'));
    const file = path.join(dir, 'lock');
    mkdirSync(file);
    writeFileSync(path.join(file, 'keep'), 'x');
    const outcome = await acquireLock(file, 'orchestrate');
    expect(outcome.acquired).toBe(false);
    if (!outcome.acquired) expect(outcome.reason).toBe(`the run lock ${file} is a directory, not a lock file the orchestrator wrote; remove it (rm -r ${file}) and try again`);
    expect(existsSync(path.join(file, 'keep'))).toBe(true);
  });

  it('refuses a state folder that is a file', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mo-lock-'));
    writeFileSync(path.join(dir, 'state'), 'x');
    const outcome = await acquireLock(path.join(dir, 'state', 'lock'), 'orchestrate');
    expect(outcome.acquired).toBe(false);
    if (!outcome.acquired) expect(outcome.reason).toMatch(/cannot create the folder for the run lock .*state \(E[A-Z]+\): a file of that name is in the way/);
  });
});

describe('a tampered lock file', () => {
  it.each([0, -1, 1.5, '123'])('with pid %j is unreadable, and once old it is taken over like a stale one', async (pid) => {
    dir = mkdtempSync(path.join(tmpdir(), 'mo-lock-'));
    const file = path.join(dir, 'lock');
    writeFileSync(file, JSON.stringify({ pid, host: hostname(), startedAt: 'then', command: 'x' }));
    expect(await readLock(file)).toBeUndefined();
    utimesSync(file, new Date(0), new Date(0));
    const outcome = await acquireLock(file, 'orchestrate');
    expect(outcome.acquired).toBe(true);
    if (outcome.acquired) await outcome.release();
  });
});
