import { readlinkSync } from 'node:fs';
import path from 'node:path';
import { isPidAlive, signalGroup } from '../util/process.js';

/**
 * After a crash (kill -9 of the orchestrator) an agent may still be working in its worktree: a resume must not
 * start a second one there. The recorded pid is only trusted when that process still works inside the task's
 * worktree, so a recycled pid belonging to something else is never signalled.
 */
export async function stopOrphanedAgent(pid: number, worktree: string, graceMs = 5000): Promise<'stopped' | 'gone' | 'not-ours'> {
  if (!isPidAlive(pid)) return 'gone';
  if (!isInside(processCwd(pid), worktree)) return 'not-ours';
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isPidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isPidAlive(pid)) signalGroup(pid, 'SIGKILL');
  return 'stopped';
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
  const relative = path.relative(root, dir);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
