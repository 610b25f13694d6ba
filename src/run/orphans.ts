import { readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { isPidAlive, readProcStat, signalGroup } from '../util/process.js';

export type OrphanOutcome = 'stopped' | 'gone' | 'not-ours';

/**
 * After a crash (kill -9 of the orchestrator) an agent may still be working in its worktree: a resume must not
 * start a second one there. The pid comes from the state file, which anyone can edit, so it is signalled only when
 * the live process is provably that agent: its start time (`agentStart`, recorded at spawn) is the recorded one,
 * so the pid was not recycled, and its working directory is inside `worktree` — the worktree derived from the
 * configuration and task id, never the path written in the file. Anything else is `not-ours` and left alone.
 * Where /proc is missing (macOS) nothing can be proven, so nothing is signalled.
 */
export async function stopOrphanedAgent(
  pid: number,
  recordedStart: string | undefined,
  worktree: string,
  graceMs = 5000,
): Promise<OrphanOutcome> {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return 'not-ours';
  if (!isPidAlive(pid)) return 'gone';
  if (!isAgentOf(pid, recordedStart, worktree)) return 'not-ours';
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isPidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isPidAlive(pid)) signalGroup(pid, 'SIGKILL');
  return 'stopped';
}

/** True only when `pid` started at `recordedStart` and works inside `worktree`. */
export function isAgentOf(pid: number, recordedStart: string | undefined, worktree: string): boolean {
  if (recordedStart === undefined || processStartTime(pid) !== recordedStart) return false;
  // The agent was started as the leader of its own process group; signalling a group it does not lead would
  // reach other processes.
  if (readProcStat(pid)?.pgid !== pid) return false;
  return isInside(processCwd(pid), worktree);
}

/**
 * A process's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22), as text; undefined without
 * /proc or when the process is gone. Stable for the life of a process and different for a recycled pid.
 */
export function processStartTime(pid: number): string | undefined {
  return readProcStat(pid)?.startTime;
}

function processCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

function isInside(dir: string | undefined, root: string): boolean {
  if (!dir) return false;
  let real = root;
  try {
    real = realpathSync(root);
  } catch {
    return false; // no worktree, so no agent can be working in it
  }
  const relative = path.relative(real, dir);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
