import { execFileSync } from 'node:child_process';
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import type { CpuSnapshot, IdleWatch } from './idle.js';
import { createLimiter } from './limiter.js';
import { listDescendants, readProcStat } from './process.js';

/**
 * Signs of life of a silent agent other than its output (see `idle.ts`): the CPU time of its process tree and
 * changes in its worktree. Called only while the agent is silent, every `idleCheckIntervalMs`.
 */

/**
 * The signs of life of an agent working in `worktree`: its process tree's CPU time (Linux) and changes under the
 * worktree (every platform).
 */
export function idleWatchFor(worktree: string): IdleWatch {
  const linux = process.platform === 'linux';
  return {
    ...(linux ? { cpu: sampleTreeCpu, ticksPerSecond: ticksPerSecond() } : {}),
    newestChange: () => newestChangeUnder(worktree, { notAfter: Date.now() + 1000 }),
  };
}

/**
 * CPU time (user + system, own and reaped children's) of `rootPid` and every live descendant, whatever their process
 * group (Claude Code runs each shell tool in a group of its own), from `/proc/<pid>/stat`. Linux only: undefined
 * elsewhere, and then only output and worktree changes count (see the README).
 */
export function sampleTreeCpu(rootPid: number): CpuSnapshot | undefined {
  if (process.platform !== 'linux') return undefined;
  const snapshot = new Map<string, number>();
  for (const p of [readProcStat(rootPid), ...listDescendants(rootPid)]) {
    if (p?.cpuTicks !== undefined) snapshot.set(`${p.pid}:${p.startTime ?? ''}`, p.cpuTicks);
  }
  return snapshot;
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, asked once; 100 if that fails). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Folders whose changes are not the agent's work: installed packages, git's own files. */
const NOT_WATCHED = new Set(['node_modules', '.git']);

/**
 * The newest change time (ctime, epoch ms) of any file or folder under `dir`, `node_modules` and `.git` left out, at
 * most `maxEntries` entries looked at (default 50,000; a larger tree is only partly seen); change times after
 * `notAfter` (epoch ms: the clock was set back since) are left out. ctime, not mtime: a tool
 * cannot set it, so an unpacked archive's old or future mtimes do not mislead it, and a created, deleted or renamed
 * file shows as its folder's change. Undefined when `dir` cannot be read. One lstat per entry, only while silent.
 */
export async function newestChangeUnder(dir: string, opts: { maxEntries?: number; notAfter?: number } = {}): Promise<number | undefined> {
  const limit = createLimiter(32);
  let budget = opts.maxEntries ?? 50_000;
  let newest: number | undefined;
  const notAfter = opts.notAfter ?? Infinity;
  const see = (ctimeMs: number): void => {
    if (ctimeMs <= notAfter && (newest === undefined || ctimeMs > newest)) newest = ctimeMs;
  };
  const walk = async (at: string): Promise<void> => {
    const pending: Promise<void>[] = [];
    let handle;
    try {
      handle = await limit(() => opendir(at, { bufferSize: 256 }));
    } catch {
      return;
    }
    for await (const entry of handle) {
      if (budget-- <= 0) break;
      if (NOT_WATCHED.has(entry.name)) continue;
      const full = path.join(at, entry.name);
      pending.push(
        limit(() => lstat(full)).then(
          (s) => see(s.ctimeMs),
          () => undefined,
        ),
      );
      if (entry.isDirectory()) pending.push(walk(full));
    }
    await Promise.all(pending);
  };
  try {
    see((await lstat(dir)).ctimeMs);
  } catch {
    return undefined;
  }
  await walk(dir);
  return newest;
}
