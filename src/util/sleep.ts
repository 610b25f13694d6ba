import { setTimeout as delay } from 'node:timers/promises';

/** Waits `ms`, or rejects with the signal's own reason as soon as it aborts. */
export async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(Math.max(0, ms), undefined, { signal });
  } catch (err) {
    // timers/promises rejects with its own AbortError; callers expect the signal's reason.
    signal.throwIfAborted();
    throw err;
  }
}
