import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newestChangeUnder, sampleTreeCpu, ticksPerSecond } from '../../src/util/activity.js';
import { cpuTicksUsed, idleCheckIntervalMs, isIdle, lastSignOfLife, usedCpu } from '../../src/util/idle.js';
import { runProcessGroup } from '../../src/util/process.js';
import { Sandbox } from './process-helpers.js';

const linux = process.platform === 'linux';

describe('isIdle (pure)', () => {
  const T = 600_000;
  const at = (s: number) => 1_000_000 + s * 1000;

  it('is idle once no output, CPU use or worktree change happened for the idle timeout', () => {
    expect(isIdle({ now: at(599), idleTimeoutMs: T, lastOutputAt: at(0) })).toBe(false);
    expect(isIdle({ now: at(600), idleTimeoutMs: T, lastOutputAt: at(0) })).toBe(true);
    // A silent build: the tree used CPU 100 s ago, or wrote a file 30 s ago.
    expect(isIdle({ now: at(900), idleTimeoutMs: T, lastOutputAt: at(0), lastCpuAt: at(800) })).toBe(false);
    expect(isIdle({ now: at(900), idleTimeoutMs: T, lastOutputAt: at(0), worktreeChangedAt: at(870) })).toBe(false);
    // Old signs of life do not keep it alive.
    expect(isIdle({ now: at(1500), idleTimeoutMs: T, lastOutputAt: at(0), lastCpuAt: at(800), worktreeChangedAt: at(870) })).toBe(true);
  });

  it('a change time far in the future is no sign of life (the clock was set back): it cannot keep an agent alive', () => {
    const input = { now: at(610), idleTimeoutMs: T, lastOutputAt: at(0) };
    expect(isIdle({ ...input, worktreeChangedAt: at(100_000) })).toBe(true);
    expect(lastSignOfLife({ ...input, worktreeChangedAt: at(100_000) })).toBe(at(0));
    // Within a second of now (file-system rounding): counts, as now.
    expect(lastSignOfLife({ ...input, worktreeChangedAt: at(610.5) })).toBe(at(610));
  });

  it('checks a quarter of the timeout apart, between 100 ms and 60 s', () => {
    expect(idleCheckIntervalMs(600_000)).toBe(60_000);
    expect(idleCheckIntervalMs(120_000)).toBe(30_000);
    expect(idleCheckIntervalMs(1000)).toBe(250);
    expect(idleCheckIntervalMs(200)).toBe(100);
  });

  it('cpuTicksUsed: per process, new processes in full, exited ones and a reused pid apart', () => {
    const before = new Map([
      ['10:1', 500],
      ['11:2', 40],
      ['12:3', 7],
    ]);
    const after = new Map([
      ['10:1', 530], // +30
      ['12:3', 7], // +0
      ['11:99', 4], // pid 11 again, a new process: +4
      ['13:5', 60], // new: +60
    ]);
    expect(cpuTicksUsed(before, after)).toBe(94);
    expect(cpuTicksUsed(after, after)).toBe(0);
  });

  it('usedCpu: at least 1 % of a core over the interval and 2 ticks; a waiting agent is below', () => {
    expect(usedCpu({ ticks: 600, intervalMs: 60_000, ticksPerSecond: 100 })).toBe(true); // 6 s in 60 s
    expect(usedCpu({ ticks: 60, intervalMs: 60_000, ticksPerSecond: 100 })).toBe(true); // exactly 1 %
    expect(usedCpu({ ticks: 59, intervalMs: 60_000, ticksPerSecond: 100 })).toBe(false);
    expect(usedCpu({ ticks: 1, intervalMs: 250, ticksPerSecond: 100 })).toBe(false);
    expect(usedCpu({ ticks: 2, intervalMs: 250, ticksPerSecond: 100 })).toBe(true);
  });
});

describe('activity probes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mo-idle-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('newestChangeUnder: the newest ctime at any depth; node_modules and .git are not watched; old mtimes do not hide a write', async () => {
    mkdirSync(join(dir, 'deep/er'), { recursive: true });
    mkdirSync(join(dir, 'node_modules/x'), { recursive: true });
    writeFileSync(join(dir, 'deep/er/a.ts'), 'a');
    writeFileSync(join(dir, 'node_modules/x/cache'), 'c');
    writeFileSync(join(dir, '.git'), 'gitdir: elsewhere');
    const first = await newestChangeUnder(dir);
    expect(first).toBeGreaterThan(Date.now() - 10_000);

    await new Promise((r) => setTimeout(r, 30));
    // Rewritten in place: only the files change, not the folder that lists them.
    writeFileSync(join(dir, 'node_modules/x/cache'), 'changed');
    writeFileSync(join(dir, '.git'), 'gitdir: somewhere else');
    expect(await newestChangeUnder(dir)).toBe(first);

    await new Promise((r) => setTimeout(r, 30));
    writeFileSync(join(dir, 'deep/er/a.ts'), 'a2');
    utimesSync(join(dir, 'deep/er/a.ts'), new Date(2001, 0, 1), new Date(2001, 0, 1)); // as an unpacked archive does
    expect(await newestChangeUnder(dir)).toBeGreaterThan(first!);
    expect(await newestChangeUnder(join(dir, 'missing'))).toBeUndefined();
    expect(await newestChangeUnder(dir, { notAfter: first! - 60_000 })).toBeUndefined();
  });

  it.runIf(linux)('sampleTreeCpu: the CPU time of a process and its descendants grows while a child computes', async () => {
    const burn = 'const end = Date.now() + 700; while (Date.now() < end);';
    const script = `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(burn)}], { stdio: 'inherit' }); setTimeout(() => {}, 1500)`;
    let before: ReturnType<typeof sampleTreeCpu>;
    let after: ReturnType<typeof sampleTreeCpu>;
    await runProcessGroup({
      file: process.execPath,
      args: ['-e', script],
      cwd: dir,
      env: process.env,
      killGraceMs: 200,
      onStdoutLine: () => undefined,
      onSpawn: (pid) => {
        before = sampleTreeCpu(pid);
        setTimeout(() => (after = sampleTreeCpu(pid)), 1200);
      },
    });
    expect(before!.size).toBeGreaterThanOrEqual(1);
    expect(after!.size).toBeGreaterThanOrEqual(1);
    // The child burnt 0.7 s of CPU (less on a loaded machine, but far above noise).
    expect(cpuTicksUsed(before!, after!) / ticksPerSecond()).toBeGreaterThan(0.1);
  });
});

/** A node script that stays silent on stdout for `ms`, doing `what` meanwhile. */
function silent(what: 'burn' | 'write' | 'wait', ms: number): string {
  switch (what) {
    case 'burn':
      return `const end = Date.now() + ${ms}; while (Date.now() < end);`;
    case 'write':
      // One file rewritten every 100 ms, from a timer: next to no CPU.
      return `const fs = require('fs'); const t = setInterval(() => fs.writeFileSync('progress.txt', String(Date.now())), 100); setTimeout(() => clearInterval(t), ${ms});`;
    case 'wait':
      return `setTimeout(() => {}, ${ms});`;
  }
}

describe('runProcessGroup idle timeout: which signs of life count', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mo-idle-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (what: 'burn' | 'write' | 'wait', watch: 'cpu' | 'worktree', ms = 2400) =>
    runProcessGroup({
      file: process.execPath,
      args: ['-e', silent(what, ms)],
      cwd: dir,
      env: process.env,
      idleTimeoutMs: 800,
      killGraceMs: 200,
      onStdoutLine: () => undefined,
      ...(watch === 'cpu' ? { idleWatch: { cpu: sampleTreeCpu, ticksPerSecond: ticksPerSecond() } } : {}),
      ...(watch === 'worktree' ? { idleWatch: { newestChange: () => newestChangeUnder(dir) } } : {}),
    });

  it.runIf(linux)('CPU use keeps a silent process alive when CPU is watched, and only then', async () => {
    const watched = await run('burn', 'cpu');
    expect(watched.killReason).toBeUndefined();
    expect(watched.exitCode).toBe(0);
    const unwatched = await run('burn', 'worktree');
    expect(unwatched.killReason).toBe('idle_timeout');
  });

  it('writes in the watched folder keep a silent process alive when it is watched, and only then', async () => {
    const watched = await run('write', 'worktree');
    expect(watched.killReason).toBeUndefined();
    expect(watched.exitCode).toBe(0);
    if (linux) {
      // The writer uses next to no CPU: watching CPU alone does not save it. (Given 8 s: a tick charged to it now and
      // then may keep it alive a little longer; it still goes idle well before it would finish.)
      const unwatched = await run('write', 'cpu', 8000);
      expect(unwatched.killReason).toBe('idle_timeout');
    }
  });
});

describe('claude adapter with the fake agent: idle detection', () => {
  let box: Sandbox;
  beforeEach(() => {
    box = new Sandbox();
  });
  afterEach(() => box.dispose());

  const bashNode = (script: string) => ({ bash: `${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)}` });

  it.runIf(linux)('a silent shell tool that computes longer than the idle timeout is not killed', async () => {
    const req = box.request({ default: { steps: [{ text: 'running the tests' }, bashNode(silent('burn', 3000))] } }, { idleTimeoutMs: 1000 });
    const result = await box.adapter().run(req);
    expect(result.ok, result.failure?.message).toBe(true);
    expect(result.durationMs).toBeGreaterThan(3000);
  });

  it('a silent shell tool that writes files in the worktree longer than the idle timeout is not killed', async () => {
    const req = box.request({ default: { steps: [{ text: 'building' }, bashNode(silent('write', 3000))] } }, { idleTimeoutMs: 1000 });
    const result = await box.adapter().run(req);
    expect(result.ok, result.failure?.message).toBe(true);
    expect(result.durationMs).toBeGreaterThan(3000);
  });

  it('a truly idle agent (a tool waiting, no CPU, no file written) is killed after the idle timeout, saying how it was judged', async () => {
    const req = box.request({ default: { steps: [{ text: 'waiting' }, bashNode(silent('wait', 30_000))] } }, { idleTimeoutMs: 1000 });
    const result = await box.adapter().run(req);
    expect(result).toMatchObject({ ok: false, failure: { kind: 'idle_timeout' } });
    expect(result.failure?.message).toMatch(
      linux ? /printed nothing, used no CPU and changed no file in its worktree for 1s/ : /printed nothing and changed no file in its worktree for 1s/,
    );
    expect(result.durationMs).toBeLessThan(15_000);
  });

  it.runIf(linux)('the wall-clock timeout still bounds an agent that is busy all the time', async () => {
    const req = box.request({ default: { steps: [bashNode(silent('burn', 60_000))] } }, { idleTimeoutMs: 1000, timeoutMs: 3000 });
    const result = await box.adapter().run(req);
    expect(result).toMatchObject({ ok: false, failure: { kind: 'timeout' } });
    expect(result.durationMs).toBeLessThan(15_000);
  });
});
