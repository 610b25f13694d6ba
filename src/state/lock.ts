import { hostname } from 'node:os';
import { lstat, mkdir, open, readFile, rm, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { isPidAlive, readProcStat } from '../util/process.js';
import { localDateTimeOf } from '../report/local-time.js';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  /**
   * The holder's start time in clock ticks since boot (`/proc/<pid>/stat` field 22), where /proc exists: a live
   * process with the same pid but another start time is a recycled pid (a reboot, a long-dead run), not the holder.
   */
  procStart?: string;
}

export type LockOutcome =
  | { acquired: true; release: () => Promise<void>; tookOverFrom?: LockInfo }
  | { acquired: false; holder: LockInfo | undefined; reason: string };

/**
 * One run per repository. The lock file is created exclusively (O_EXCL), so two starters cannot both win.
 * A lock whose process is gone (same host, dead pid) is stale and taken over: renamed aside first, so two
 * starters racing for a stale lock still end with one winner.
 */
export async function acquireLock(file: string, command: string): Promise<LockOutcome> {
  const unusable = await unusableLockPath(file);
  if (unusable) return { acquired: false, holder: undefined, reason: unusable };
  const procStart = readProcStat(process.pid)?.startTime;
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command, ...(procStart ? { procStart } : {}) };
  let tookOverFrom: LockInfo | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createExclusive(file, info)) {
      return { acquired: true, release: () => releaseLock(file, info.pid), ...(tookOverFrom ? { tookOverFrom } : {}) };
    }
    const holder = await readLock(file);
    if (holder && !isStale(holder)) return { acquired: false, holder, reason: describeHolder(holder, file) };
    // An unreadable lock may be one another starter is writing this instant: only an old one is garbage.
    if (!holder && (await ageMs(file)) < 10_000) break;
    // Stale or unreadable: move it aside atomically; whoever renames it first wins the next exclusive create.
    tookOverFrom = holder;
    const aside = `${file}.stale.${process.pid}`;
    await rename(file, aside).then(
      () => rm(aside, { force: true }),
      () => undefined,
    );
  }
  return { acquired: false, holder: await readLock(file), reason: 'another run is starting at the same moment' };
}

/**
 * Why the lock cannot be used at all, if so: its folder is not a folder, or the lock is not a regular file (a
 * directory or a link someone put there — never ours, so it is not "stale" and is not moved aside). The reason
 * says what to remove.
 */
async function unusableLockPath(file: string): Promise<string | undefined> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
  } catch (err) {
    return `cannot create the folder for the run lock ${path.dirname(file)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): a file of that name is in the way; move it aside and try again`;
  }
  const found = await lstat(file).catch(() => undefined);
  if (!found || found.isFile()) return undefined;
  const what = found.isDirectory() ? 'a directory' : found.isSymbolicLink() ? 'a symbolic link' : 'not a regular file';
  return `the run lock ${file} is ${what}, not a lock file the orchestrator wrote; remove it (rm -r ${shellQuote(file)}) and try again`;
}

function shellQuote(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

async function createExclusive(file: string, info: LockInfo): Promise<boolean> {
  try {
    const handle = await open(file, 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(info, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export async function readLock(file: string): Promise<LockInfo | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<LockInfo>;
    // A lock is input like the state file: a pid that is no process id (0, -1, 1.5) is an unreadable lock.
    const pid = parsed.pid;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1 || typeof parsed.host !== 'string') return undefined;
    const procStart = typeof parsed.procStart === 'string' ? { procStart: parsed.procStart } : {};
    return { pid, host: parsed.host, startedAt: String(parsed.startedAt ?? ''), command: String(parsed.command ?? ''), ...procStart };
  } catch {
    return undefined;
  }
}

function isStale(holder: LockInfo): boolean {
  // A lock from another host cannot be checked; treat it as live and let the user decide.
  if (holder.host !== hostname()) return false;
  if (!isPidAlive(holder.pid)) return true;
  const now = readProcStat(holder.pid)?.startTime;
  return holder.procStart !== undefined && now !== undefined && now !== holder.procStart;
}

/** Who holds the lock, and the way out when that process is not a run at all (a lock from another machine or tool). */
function describeHolder(h: LockInfo, file: string): string {
  return (
    `another run holds the lock: pid ${h.pid} on ${h.host}, started ${localDateTimeOf(h.startedAt)}${h.command ? ` (${h.command})` : ''}. ` +
    `If no orchestrate run is going on there, remove the lock: rm ${shellQuote(file)}`
  );
}

async function releaseLock(file: string, pid: number): Promise<void> {
  const holder = await readLock(file);
  if (holder?.pid === pid) await rm(file, { force: true });
}

async function ageMs(file: string): Promise<number> {
  try {
    return Date.now() - (await stat(file)).mtimeMs;
  } catch {
    return Infinity;
  }
}
