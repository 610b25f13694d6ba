import type { StatsFs } from 'node:fs';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import si from 'systeminformation';

/**
 * The raw readings behind a `ResourceSample`, one method per figure so the sampler can tell which one failed
 * and tests can count and fake each. Any method may throw or reject; the sampler turns that into null.
 */
export interface ResourceReader {
  cpus(): number | Promise<number>;
  /** 1-minute load average. */
  load1(): number | Promise<number>;
  /** Memory available to new processes, in MB. */
  availableMemoryMb(): number | Promise<number>;
  /** Space an unprivileged user can still write on the filesystem holding `target`, in MB. */
  freeDiskMb(target: string): number | Promise<number>;
}

const MB = 1024 * 1024;

/**
 * Measured on the 2-core Linux box (Node 20, systeminformation 5.33), per call after the first:
 * - `os.availableParallelism()` ~0.00 ms, `os.loadavg()` ~0.01 ms: both read straight from the kernel, while
 *   `si.currentLoad()` needs two calls to compute anything (its first call took 514 ms).
 *   availableParallelism (not `os.cpus().length`) because it is never 0 (os.cpus() can be empty in containers)
 *   and respects CPU affinity.
 * - `si.mem()` ~0.4 ms: it parses /proc/meminfo for MemAvailable (page cache counts as available), and falls
 *   back to os.freemem() itself, so it never rejects.
 * - disk: `si.fsSize()` ~8 ms, spawns `cat /proc/mounts` synchronously (blocking the event loop ~6 ms) and
 *   `df`, and drops tmpfs mounts - so a worktree dir on a tmpfs /tmp would be matched to "/" by the
 *   longest-mount-prefix rule, a wrong answer. `fs.statfs()` ~0.05 ms, asynchronous, no child process, and
 *   asks the kernel about the filesystem that holds the path itself, symlinks and bind mounts included.
 *   `bavail` is what df calls "Available" (and what fsSize reports as `available`).
 */
export const systemReader: ResourceReader = {
  cpus: () => os.availableParallelism(),
  load1: () => os.loadavg()[0] ?? Number.NaN,
  availableMemoryMb: async () => (await si.mem()).available / MB,
  freeDiskMb: async (target) => {
    const stats = await statfsNearest(path.resolve(target));
    return (stats.bavail * stats.bsize) / MB;
  },
};

/**
 * The worktrees directory does not exist before the first task starts, so measure its nearest existing
 * ancestor: that is the filesystem it will be created on.
 */
async function statfsNearest(target: string): Promise<StatsFs> {
  for (let dir = target; ; dir = path.dirname(dir)) {
    try {
      return await statfs(dir);
    } catch (err) {
      const parent = path.dirname(dir);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) throw err;
    }
  }
}
