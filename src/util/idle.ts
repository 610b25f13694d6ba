/**
 * When a silent agent counts as idle (pure; the IO is in `activity.ts`, the timer in `process.ts`).
 *
 * Claude Code prints nothing while one of its shell tools runs, so a long build or test suite would look exactly
 * like a hung agent if output were the only sign of life. An agent is alive while it prints, while its process tree
 * uses CPU, or while files in its worktree change; it is idle once none of these happened for the idle timeout.
 * The wall-clock timeout bounds every run regardless.
 */

export interface IdleInput {
  /** Epoch ms. */
  now: number;
  idleTimeoutMs: number;
  /** Epoch ms of the last stdout line (the spawn, before the first). */
  lastOutputAt: number;
  /** Epoch ms of the last check that saw the process tree use CPU (`usedCpu`); undefined: never, or not measured. */
  lastCpuAt?: number;
  /** Epoch ms of the newest change (ctime) under the worktree; undefined: none found, or not watched. */
  worktreeChangedAt?: number;
}

/** How far in the future a change time may be and still count (file systems round; clocks drift a little). */
const FUTURE_SLACK_MS = 1000;

/**
 * The newest sign of life, epoch ms. A worktree change time further in the future than `FUTURE_SLACK_MS` (the clock
 * was set back) is no sign of life: it would otherwise keep the agent alive until the clock caught up.
 */
export function lastSignOfLife(input: IdleInput): number {
  const changed = input.worktreeChangedAt !== undefined && input.worktreeChangedAt <= input.now + FUTURE_SLACK_MS ? input.worktreeChangedAt : -Infinity;
  return Math.min(input.now, Math.max(input.lastOutputAt, input.lastCpuAt ?? -Infinity, changed));
}

/** True once the agent has shown no sign of life (output, CPU, worktree change) for `idleTimeoutMs`. */
export function isIdle(input: IdleInput): boolean {
  return input.now - lastSignOfLife(input) >= input.idleTimeoutMs;
}

/**
 * How often a silent agent's CPU and worktree are checked: a quarter of the idle timeout, between 100 ms and 60 s.
 * An idle agent is therefore stopped between 1x and 1.25x the idle timeout (at most 60 s late) after its last sign
 * of life; an agent that prints is never checked at all (the check costs a scan of /proc and of the worktree).
 */
export function idleCheckIntervalMs(idleTimeoutMs: number): number {
  return Math.min(60_000, Math.max(100, Math.floor(idleTimeoutMs / 4)));
}

/** CPU time of each process of a tree, in clock ticks, keyed by pid and start time (a reused pid is another key). */
export type CpuSnapshot = ReadonlyMap<string, number>;

/** Where a silent process's other signs of life come from (the IO side: `util/activity.ts`). */
export interface IdleWatch {
  /** CPU snapshot of the tree rooted at `pid`; undefined where it cannot be measured (not Linux). */
  cpu?: (pid: number) => CpuSnapshot | undefined;
  /** Clock ticks per second of the snapshots' values (Linux: `getconf CLK_TCK`, usually 100). */
  ticksPerSecond?: number;
  /** The newest change time (epoch ms) in the watched folder, undefined when none can be read. */
  newestChange?: () => Promise<number | undefined>;
}

/**
 * Clock ticks the tree used between two snapshots. A process that appeared since `before` counts in full (it ran
 * in between); one that exited counts nothing more, but its parent's "children's time" grows when the parent reaps
 * it. A counter never goes back, so a smaller value (not expected) counts 0.
 */
export function cpuTicksUsed(before: CpuSnapshot, after: CpuSnapshot): number {
  let used = 0;
  for (const [key, ticks] of after) used += Math.max(0, ticks - (before.get(key) ?? 0));
  return used;
}

/**
 * Whether CPU use between two checks is work rather than background noise: at least 1 % of one core over the
 * interval and at least 2 ticks (20 ms at the usual 100 ticks/s). Claude Code waiting on the API uses no measurable
 * CPU (0 s over 10 s, see the reference measurements), while a build or test run uses a good part of a core.
 */
export function usedCpu(input: { ticks: number; intervalMs: number; ticksPerSecond: number }): boolean {
  const seconds = input.ticks / input.ticksPerSecond;
  return input.ticks >= 2 && seconds >= 0.01 * (input.intervalMs / 1000);
}
