/**
 * How long after its spawn an agent counts as "starting" for the gate. §7 of the Claude Code notes: init takes
 * ~1 s alone, 3.2–3.5 s with 4 starting together and ~5 s with 8 on 2 cores; the CPU burst and the memory
 * growth happen in that time. 10 s covers 8 at once with room to spare, plus a sample reused for up to
 * `sample_interval_ms` (2 s by default) from before the spawn. Counting a little too long only delays the
 * next start by a few seconds; counting too short lets a burst of starts pile up on the CPUs.
 */
export const STARTUP_WINDOW_MS = 10_000;

export interface StartTracker {
  /** Call when an agent has just been spawned. */
  record(): void;
  /** Agents recorded within the start-up window: `startingAgents` for the gate. */
  count(): number;
}

export function createStartTracker(opts: { windowMs?: number; now?: () => number } = {}): StartTracker {
  const windowMs = opts.windowMs ?? STARTUP_WINDOW_MS;
  const now = opts.now ?? Date.now;
  let starts: number[] = [];
  const prune = (): void => {
    const t = now();
    // A start "in the future" means the clock went back: forget it rather than count it for that long.
    starts = starts.filter((at) => t - at < windowMs && t >= at);
  };
  return {
    record() {
      prune();
      starts.push(now());
    },
    count() {
      prune();
      return starts.length;
    },
  };
}
