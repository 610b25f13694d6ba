import { abortableSleep } from '../util/sleep.js';

/**
 * The run's time: the usage-limit pause and the agents' fault back-off read and wait on it, so tests drive a run
 * through an hour-long pause without waiting real seconds. `now` in epoch ms; `sleep` waits `ms` or rejects with the
 * signal's reason once it aborts.
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep: abortableSleep };

/** The clock's now as an ISO time (what the run state and the events record). */
export function isoNow(clock: Pick<Clock, 'now'>): string {
  return new Date(clock.now()).toISOString();
}
