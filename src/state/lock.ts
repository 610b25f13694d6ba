import { hostname } from 'node:os';
import { lstat, mkdir, open, readFile, rm, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { isPidAlive } from '../util/process.js';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
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
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command };
  let tookOverFrom: LockInfo | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createExclusive(file, info)) {
      return { acquired: true, release: () => releaseLock(file, info.pid), ...(tookOverFrom ? { tookOverFrom } : {}) };
    }
    const holder = await readLock(file);
    if (holder && !isStale(holder)) return { acquired: false, holder, reason: describeHolder(holder) };
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
    return { pid, host: parsed.host, startedAt: String(parsed.startedAt ?? ''), command: String(parsed.command ?? '') };
  } catch {
    return undefined;
  }
}

function isStale(holder: LockInfo): boolean {
  // A lock from another host cannot be checked; treat it as live and let the user decide.
  if (holder.host !== hostname()) return false;
  return !isPidAlive(holder.pid);
}

function describeHolder(h: LockInfo): string {
  return `another run holds the lock: pid ${h.pid} on ${h.host}, started ${h.startedAt}${h.command ? ` (${h.command})` : ''}`;
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
